// The console's live state and how each operator-socket frame changes it: pure functions, so
// every rule is unit-tested without a browser.

import type { Frame } from "../common/socket";
import type {
  BrowsingVisitor,
  Channel,
  MySummary,
  PendingOffer,
  Presence,
  SessionView,
  SiteMonitorView,
  TranscriptMessage,
} from "../common/types";
import { presenceReasonText, rejectionText } from "../common/words";

/** An incoming chat request, as its ChatOffered frame or the operator's summary has it. */
export type Offer = PendingOffer;

export interface Chat {
  session_id: string;
  visitor_id: string;
  channel: Channel;
  status: "active" | "on_hold" | "ended";
  unread: number;
  messages: TranscriptMessage[];
}

export interface Notice {
  id: number;
  kind: "rejected" | "info";
  text: string;
}

export interface TakenMessage {
  offline_message_id: string;
  visitor_id: string;
  name: string;
  email: string;
  text: string;
  left_at: string;
}

/** The Site Monitor as last read or pushed, and when (the time on site ticks from then). */
export interface Monitor {
  visitors: BrowsingVisitor[];
  /** How many browse in all: more than `visitors` on a site bigger than the list. */
  browsing: number;
  at: number;
}

export interface ConsoleState {
  me: string;
  presence: Presence | null;
  presenceNote: string | null;
  offers: Offer[];
  /** Offers answered here or closed by a frame, newest last: a summary read before the
   * projector heard of the outcome must not bring one back. */
  settled: string[];
  chats: Record<string, Chat>;
  openChat: string | null;
  notices: Notice[];
  taken: TakenMessage | null;
  monitor: Monitor;
  nextNotice: number;
}

/** Why the queue manager changed the operator's presence, as a sentence. */
export function presenceNote(presence: Presence, reason: string): string {
  return `Set ${presence} because ${presenceReasonText(reason)}.`;
}

export function initialState(me: string): ConsoleState {
  return {
    me,
    presence: null,
    presenceNote: null,
    offers: [],
    settled: [],
    chats: {},
    openChat: null,
    notices: [],
    taken: null,
    monitor: { visitors: [], browsing: 0, at: 0 },
    nextNotice: 1,
  };
}

function notice(state: ConsoleState, kind: Notice["kind"], text: string): ConsoleState {
  const notices = [...state.notices, { id: state.nextNotice, kind, text }].slice(-5);
  return { ...state, notices, nextNotice: state.nextNotice + 1 };
}

export function dismiss(state: ConsoleState, id: number): ConsoleState {
  return { ...state, notices: state.notices.filter((n) => n.id !== id) };
}

/** Messages merged by sequence number: a repeat is dropped, the order is the transcript's. */
export function mergeMessages(
  known: TranscriptMessage[],
  incoming: TranscriptMessage[],
): TranscriptMessage[] {
  const bySeq = new Map<number, TranscriptMessage>();
  for (const m of [...known, ...incoming]) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function withChat(state: ConsoleState, id: string, change: (chat: Chat) => Chat): ConsoleState {
  const chat = state.chats[id];
  if (!chat) return state;
  return { ...state, chats: { ...state.chats, [id]: change(chat) } };
}

const SETTLED_REMEMBERED = 100;

function withoutOffer(state: ConsoleState, offerId: unknown): ConsoleState {
  return { ...state, offers: state.offers.filter((o) => o.offer_id !== offerId) };
}

/** The offer is answered or closed: gone from the dialog, and never shown again. */
function settle(state: ConsoleState, offerId: unknown): ConsoleState {
  const id = String(offerId);
  const settled = state.settled.includes(id) ? state.settled : [...state.settled, id].slice(-SETTLED_REMEMBERED);
  return { ...withoutOffer(state, id), settled };
}

/** The operator answered the offer (Accept, Decline, Put back in queue). */
export function answered(state: ConsoleState, offerId: string): ConsoleState {
  return settle(state, offerId);
}

/** After a (re)connect: the operator's pending offers as its summary lists them (a ChatOffered
 * sent while the socket was down never arrives). The offers in `shownBefore` that the summary
 * does not list are taken for closed (the console passes those a first read did not list, after
 * a grace for the summary's lag); the others stay (one that came on this connection may not be
 * in the summary yet); settled or expired ones are not brought back. */
export function applyPendingOffers(
  state: ConsoleState,
  pending: Offer[],
  shownBefore: string[],
  now: number,
): ConsoleState {
  const listed = new Set(pending.map((o) => o.offer_id));
  const kept = state.offers.filter((o) => listed.has(o.offer_id) || !shownBefore.includes(o.offer_id));
  const known = new Set(kept.map((o) => o.offer_id));
  const missed = pending.filter(
    (o) => !known.has(o.offer_id) && !state.settled.includes(o.offer_id) && Date.parse(o.expires_at) > now,
  );
  return { ...state, offers: [...kept, ...missed] };
}

/** The operator's presence (and why, when not by their own choice) as a read of its summary
 * says, unless a presence frame `overtook` the read: the frame is newer than the summary. */
export function applyMyPresence(
  state: ConsoleState,
  mine: Pick<MySummary, "presence" | "presence_reason">,
  overtook: boolean,
): ConsoleState {
  if (overtook) return state;
  const reason = mine.presence_reason;
  const note = reason && reason !== "operator" ? presenceNote(mine.presence, reason) : state.presenceNote;
  return { ...state, presence: mine.presence, presenceNote: note };
}

/** The browsing visitors as `GET /v1/operator/site-monitor` read them or a `SiteMonitor` frame
 * pushed them, received at `at` (ms). */
export function applyMonitor(state: ConsoleState, view: SiteMonitorView, at: number): ConsoleState {
  const { visitors } = view;
  return { ...state, monitor: { visitors, browsing: Math.max(view.browsing ?? 0, visitors.length), at } };
}

/** One frame of the operator socket applied to the console, received at `at` (ms). */
export function applyFrame(state: ConsoleState, frame: Frame, at: number = Date.now()): ConsoleState {
  const f = frame as Record<string, unknown>;
  switch (frame.type) {
    case "ChatOffered": {
      if (f.operator_id !== state.me) return state;
      const offer: Offer = {
        offer_id: String(f.offer_id),
        visitor_id: String(f.visitor_id),
        channel: f.channel as Channel,
        waiting_since: String(f.waiting_since),
        expires_at: String(f.expires_at),
      };
      return { ...withoutOffer(state, offer.offer_id), offers: [...withoutOffer(state, offer.offer_id).offers, offer] };
    }
    case "OfferDeclined":
    case "OfferPutBack":
    case "OfferWithdrawn":
      return settle(state, f.offer_id);
    case "OfferTimedOut":
      return notice(settle(state, f.offer_id), "info", "An incoming chat request was not answered in time and went back to the queue.");
    case "ChatStarted": {
      if (f.operator_id !== state.me) return state;
      const id = String(f.session_id);
      const known = state.chats[id];
      const chat: Chat = known ?? {
        session_id: id,
        visitor_id: String(f.visitor_id),
        channel: f.channel as Channel,
        status: "active",
        unread: 0,
        messages: [],
      };
      return { ...settle(state, id), chats: { ...state.chats, [id]: chat } };
    }
    case "ChatMessagePosted": {
      const id = String(f.session_id);
      const message: TranscriptMessage = {
        session_id: id,
        seq: Number(f.seq),
        author: f.author as "operator" | "visitor",
        author_id: String(f.author === "operator" ? f.operator_id : f.visitor_id),
        client_message_id: String(f.client_message_id),
        text: String(f.text),
        posted_at: String(f.occurred_at ?? new Date().toISOString()),
      };
      return withChat(state, id, (chat) => {
        const fresh = !chat.messages.some((m) => m.seq === message.seq);
        const unseen = fresh && message.author === "visitor" && state.openChat !== id;
        return {
          ...chat,
          messages: mergeMessages(chat.messages, [message]),
          unread: chat.unread + (unseen ? 1 : 0),
        };
      });
    }
    case "ChatHeld":
      return withChat(state, String(f.session_id), (chat) => ({ ...chat, status: "on_hold" }));
    case "ChatResumed":
      return withChat(state, String(f.session_id), (chat) => ({ ...chat, status: "active" }));
    case "ChatEnded":
      return withChat(state, String(f.session_id), (chat) => ({ ...chat, status: "ended" }));
    case "OperatorPresenceChanged": {
      if (f.operator_id !== state.me) return state;
      const reason = String(f.reason ?? "operator");
      const presence = f.presence as Presence;
      const note = reason === "operator" ? null : presenceNote(presence, reason);
      return { ...state, presence, presenceNote: note };
    }
    case "CommandRejected":
      return notice(state, "rejected", rejectionText(String(f.command_type), String(f.reason)));
    case "OfflineMessageTaken":
      return {
        ...state,
        taken: {
          offline_message_id: String(f.offline_message_id),
          visitor_id: String(f.visitor_id),
          name: String(f.name),
          email: String(f.email),
          text: String(f.text),
          left_at: String(f.left_at),
        },
      };
    case "SiteMonitor":
      return applyMonitor(state, { visitors: f.visitors as BrowsingVisitor[], browsing: f.browsing as number | undefined }, at);
    case "VisitorInvited":
      return notice(state, "info", "Invitation sent: waiting for the visitor to answer.");
    case "InvitationDeclined":
      return notice(state, "info", "The visitor declined your invitation.");
    case "InvitationExpired":
      return notice(state, "info", "Your invitation expired without an answer.");
    default:
      return state;
  }
}

/** After a (re)connect: My Communication as the session service has it now. Chats it no
 * longer lists have ended; known transcripts and unread counts are kept. */
export function applySessions(state: ConsoleState, sessions: SessionView[]): ConsoleState {
  const chats: Record<string, Chat> = {};
  for (const [id, chat] of Object.entries(state.chats)) {
    if (chat.status === "ended") chats[id] = chat;
    else chats[id] = { ...chat, status: "ended" };
  }
  for (const s of sessions) {
    const known = state.chats[s.session_id];
    chats[s.session_id] = {
      session_id: s.session_id,
      visitor_id: s.visitor_id,
      channel: s.channel,
      status: s.status,
      unread: known?.unread ?? 0,
      messages: known?.messages ?? [],
    };
  }
  return { ...state, chats };
}

/** Transcripts caught up from the Chat overview (newest first there). */
export function applyMessages(state: ConsoleState, messages: TranscriptMessage[]): ConsoleState {
  const chats = { ...state.chats };
  for (const m of messages) {
    const chat = chats[m.session_id];
    if (chat) chats[m.session_id] = { ...chat, messages: mergeMessages(chat.messages, [m]) };
  }
  return { ...state, chats };
}

export function openChat(state: ConsoleState, id: string | null): ConsoleState {
  const next = { ...state, openChat: id };
  return id ? withChat(next, id, (chat) => ({ ...chat, unread: 0 })) : next;
}

/** The chats the operator leads now, in My Communication. */
export function leading(state: ConsoleState): Chat[] {
  return Object.values(state.chats).filter((c) => c.status !== "ended");
}

export function addNotice(state: ConsoleState, kind: Notice["kind"], text: string): ConsoleState {
  return notice(state, kind, text);
}
