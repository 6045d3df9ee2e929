// The product's plain words for what the services report in codes.

const ACTIONS: Record<string, string> = {
  AcceptOffer: "Accept",
  DeclineOffer: "Decline",
  PutBackInQueue: "Put back in queue",
  RequestNextChat: "Next chat",
  PickVisitor: "Start chat from the queue",
  InviteVisitor: "Invite",
  AnswerInvitation: "Answer the invitation",
  PostChatMessage: "Send message",
  HoldChat: "Hold",
  ResumeChat: "Resume",
  EndChat: "End chat",
  TakeNextMessage: "Next message",
  ReplyToMessage: "Reply",
  CloseMessage: "Close message",
  SetOperatorPresence: "Presence",
  SetOperatorCapacity: "Maximum number of chats",
};

/** A CommandRejected frame as one sentence: which action, and why it could not be done. */
export function rejectionText(commandType: string, reason: string): string {
  const action = ACTIONS[commandType] ?? commandType.replace(/([a-z])([A-Z])/g, "$1 $2");
  const because = reason.replace(/_/g, " ").trim();
  const sentence = because.charAt(0).toUpperCase() + because.slice(1);
  return `${action} could not be done: ${sentence}${/[.!?]$/.test(sentence) ? "" : "."}`;
}

const PRESENCE_REASONS: Record<string, string> = {
  offer_timed_out: "an incoming chat request was not answered in time",
  disconnected: "the console was disconnected",
  operator: "you chose it",
};

export function presenceReasonText(reason: string): string {
  return PRESENCE_REASONS[reason] ?? reason.replace(/_/g, " ");
}

/** 75 → "1:15"; 3700 → "1:01:40". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export function channelWord(channel: string): string {
  return channel === "call" ? "call" : "chat";
}

/** Who a badge names, for a list: the name, else the e-mail, else a short visitor id. */
export function badgeLabel(badge: { name?: string | null; email?: string | null } | undefined, visitorId: string): string {
  return badge?.name || badge?.email || `Visitor ${visitorId.slice(-6)}`;
}
