// The widget's state and how each visitor-socket frame changes it: pure, unit-tested.

import type { Frame } from "../common/socket";
import type { Channel, TranscriptMessage } from "../common/types";
import { rejectionText } from "../common/words";

export type Phase = "idle" | "waiting" | "invited" | "chatting" | "ended" | "message" | "message-sent";

export interface WidgetState {
  phase: Phase;
  channel: Channel;
  position: number | null;
  totalWaiting: number | null;
  estimatedWaitSeconds: number | null;
  waitingSince: string | null;
  sessionId: string | null;
  held: boolean;
  messages: TranscriptMessage[];
  invitation: { id: string; channel: Channel } | null;
  notice: string | null;
}

export const idle: WidgetState = {
  phase: "idle",
  channel: "chat",
  position: null,
  totalWaiting: null,
  estimatedWaitSeconds: null,
  waitingSince: null,
  sessionId: null,
  held: false,
  messages: [],
  invitation: null,
  notice: null,
};

function merge(known: TranscriptMessage[], incoming: TranscriptMessage[]): TranscriptMessage[] {
  const bySeq = new Map<number, TranscriptMessage>();
  for (const m of [...known, ...incoming]) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export function applyVisitorFrame(state: WidgetState, frame: Frame): WidgetState {
  const f = frame as Record<string, unknown>;
  switch (frame.type) {
    case "VisitorQueued":
    case "VisitorRequeued":
      if (state.phase === "chatting") return state;
      return {
        ...state,
        phase: "waiting",
        channel: f.channel as Channel,
        waitingSince: String(f.waiting_since),
        notice: null,
      };
    case "QueuePosition":
      if (state.phase !== "waiting" && state.phase !== "idle") return state;
      return {
        ...state,
        phase: "waiting",
        channel: (f.channel as Channel) ?? state.channel,
        position: Number(f.position),
        totalWaiting: Number(f.total_waiting),
        estimatedWaitSeconds: f.estimated_wait_seconds == null ? null : Number(f.estimated_wait_seconds),
      };
    case "VisitorAbandoned":
      return state.phase === "waiting" ? { ...state, phase: "idle", position: null } : state;
    case "VisitorInvited":
      if (state.phase === "chatting") return state;
      return { ...state, phase: "invited", invitation: { id: String(f.invitation_id), channel: f.channel as Channel } };
    case "InvitationExpired":
      return state.phase === "invited" ? { ...state, phase: "idle", invitation: null, notice: "The invitation has expired." } : state;
    case "ChatStarted":
      return {
        ...state,
        phase: "chatting",
        channel: f.channel as Channel,
        sessionId: String(f.session_id),
        held: false,
        messages: state.sessionId === f.session_id ? state.messages : [],
        invitation: null,
        position: null,
        notice: null,
      };
    case "ChatMessagePosted":
      if (f.session_id !== state.sessionId) return state;
      return {
        ...state,
        messages: merge(state.messages, [
          {
            session_id: String(f.session_id),
            seq: Number(f.seq),
            author: f.author as "operator" | "visitor",
            author_id: String(f.author === "operator" ? f.operator_id : f.visitor_id),
            client_message_id: String(f.client_message_id),
            text: String(f.text),
            posted_at: String(f.occurred_at ?? ""),
          },
        ]),
      };
    case "ChatHeld":
      return f.session_id === state.sessionId ? { ...state, held: true } : state;
    case "ChatResumed":
      return f.session_id === state.sessionId ? { ...state, held: false } : state;
    case "ChatEnded":
      return f.session_id === state.sessionId ? { ...state, phase: "ended", held: false } : state;
    case "CommandRejected":
      return { ...state, notice: rejectionText(String(f.command_type), String(f.reason)) };
    default:
      return state;
  }
}

interface SessionRead {
  session: { session_id: string; channel: Channel; status: "active" | "on_hold" | "ended" };
  messages: TranscriptMessage[];
}

/** After a (re)connect: the visitor's current chat as the gateway has it now. */
export function applySession(state: WidgetState, read: SessionRead): WidgetState {
  const { session, messages } = read;
  if (session.status === "ended") {
    return state.sessionId === session.session_id && state.phase === "chatting"
      ? { ...state, phase: "ended", messages: merge(state.messages, messages) }
      : state;
  }
  return {
    ...state,
    phase: "chatting",
    channel: session.channel,
    sessionId: session.session_id,
    held: session.status === "on_hold",
    messages: merge(state.sessionId === session.session_id ? state.messages : [], messages),
  };
}

/** "about 2 minutes" for an estimate in seconds. */
export function waitWords(seconds: number | null): string {
  if (seconds === null) return "not known yet";
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
}
