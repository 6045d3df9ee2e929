import { describe, expect, it } from "vitest";
import { applySession, applyVisitorFrame, idle, waitWords } from "./state";

describe("the visitor socket's frames", () => {
  it("queued, then the place in the queue and the estimate", () => {
    let state = applyVisitorFrame(idle, { type: "VisitorQueued", channel: "chat", waiting_since: "2026-01-01T10:00:00Z" });
    expect(state.phase).toBe("waiting");
    state = applyVisitorFrame(state, { type: "QueuePosition", channel: "chat", position: 2, total_waiting: 3, estimated_wait_seconds: 90 });
    expect([state.position, state.totalWaiting, state.estimatedWaitSeconds]).toEqual([2, 3, 90]);
  });

  it("the place sent after a reconnect puts a fresh page back in the queue", () => {
    const state = applyVisitorFrame(idle, { type: "QueuePosition", channel: "call", position: 1, total_waiting: 1, estimated_wait_seconds: null });
    expect([state.phase, state.channel, state.position]).toEqual(["waiting", "call", 1]);
  });

  it("a chat starts, is held, resumed and ended; messages of another chat are ignored", () => {
    let state = applyVisitorFrame(idle, { type: "ChatStarted", session_id: "s-1", channel: "chat" });
    state = applyVisitorFrame(state, { type: "ChatHeld", session_id: "s-1" });
    expect(state.held).toBe(true);
    state = applyVisitorFrame(state, { type: "ChatResumed", session_id: "s-1" });
    expect(state.held).toBe(false);
    state = applyVisitorFrame(state, { type: "ChatMessagePosted", session_id: "s-2", seq: 1, author: "operator", text: "x" });
    expect(state.messages).toEqual([]);
    state = applyVisitorFrame(state, { type: "ChatMessagePosted", session_id: "s-1", seq: 1, author: "operator", text: "hi" });
    expect(state.messages.map((m) => m.text)).toEqual(["hi"]);
    state = applyVisitorFrame(state, { type: "ChatEnded", session_id: "s-1" });
    expect(state.phase).toBe("ended");
  });

  it("an invitation is shown, and goes away when it expires", () => {
    let state = applyVisitorFrame(idle, { type: "VisitorInvited", invitation_id: "i-1", channel: "chat" });
    expect(state.phase).toBe("invited");
    state = applyVisitorFrame(state, { type: "InvitationExpired", invitation_id: "i-1" });
    expect([state.phase, state.notice]).toEqual(["idle", "The invitation has expired."]);
  });

  it("an invitation does not interrupt a chat", () => {
    const chatting = applyVisitorFrame(idle, { type: "ChatStarted", session_id: "s-1", channel: "chat" });
    expect(applyVisitorFrame(chatting, { type: "VisitorInvited", invitation_id: "i-1", channel: "chat" }).phase).toBe("chatting");
  });
});

describe("catching up after a reconnect", () => {
  const message = (seq: number) => ({
    session_id: "s-1",
    seq,
    author: "operator" as const,
    author_id: "ann",
    client_message_id: `c${seq}`,
    text: `m${seq}`,
    posted_at: "",
  });

  it("an ongoing chat is restored with its transcript and hold", () => {
    const state = applySession(idle, { session: { session_id: "s-1", channel: "chat", status: "on_hold" }, messages: [message(2), message(1)] });
    expect([state.phase, state.held, state.messages.map((m) => m.seq)]).toEqual(["chatting", true, [1, 2]]);
  });

  it("a chat that ended meanwhile is shown ended", () => {
    const chatting = applyVisitorFrame(idle, { type: "ChatStarted", session_id: "s-1", channel: "chat" });
    expect(applySession(chatting, { session: { session_id: "s-1", channel: "chat", status: "ended" }, messages: [] }).phase).toBe("ended");
  });

  it("an old ended chat does not disturb a visitor who is waiting", () => {
    const waiting = applyVisitorFrame(idle, { type: "VisitorQueued", channel: "chat", waiting_since: "x" });
    expect(applySession(waiting, { session: { session_id: "s-0", channel: "chat", status: "ended" }, messages: [] }).phase).toBe("waiting");
  });
});

describe("the estimated wait in words", () => {
  it.each([
    [null, "not known yet"],
    [20, "less than a minute"],
    [60, "about 1 minute"],
    [150, "about 3 minutes"],
  ])("%s s → %s", (seconds, words) => {
    expect(waitWords(seconds)).toBe(words);
  });
});
