import { describe, expect, it } from "vitest";
import type { TranscriptMessage } from "../common/types";
import {
  answered,
  applyFrame,
  applyMessages,
  applyMyPresence,
  applyPendingOffers,
  applySessions,
  initialState,
  leading,
  mergeMessages,
  openChat,
  type Offer,
} from "./state";

const offered = {
  type: "ChatOffered",
  offer_id: "o-1",
  visitor_id: "v-1",
  operator_id: "ann",
  channel: "chat",
  waiting_since: "2026-01-01T10:00:00Z",
  expires_at: "2026-01-01T10:00:30Z",
};
const started = { type: "ChatStarted", session_id: "o-1", visitor_id: "v-1", operator_id: "ann", channel: "chat" };
const posted = (seq: number, author = "visitor") => ({
  type: "ChatMessagePosted",
  session_id: "o-1",
  seq,
  author,
  client_message_id: `c-${seq}`,
  text: `message ${seq}`,
  visitor_id: "v-1",
  operator_id: "ann",
  occurred_at: "2026-01-01T10:01:00Z",
});

describe("the operator socket's frames", () => {
  it("an offer to this operator opens the dialog; one to another does not", () => {
    const mine = applyFrame(initialState("ann"), offered);
    expect(mine.offers.map((o) => o.offer_id)).toEqual(["o-1"]);
    expect(applyFrame(initialState("bob"), offered).offers).toEqual([]);
  });

  it("the same offer twice is one offer", () => {
    const twice = applyFrame(applyFrame(initialState("ann"), offered), offered);
    expect(twice.offers).toHaveLength(1);
  });

  it.each(["OfferDeclined", "OfferPutBack", "OfferWithdrawn", "OfferTimedOut"])("%s closes the offer", (type) => {
    const state = applyFrame(applyFrame(initialState("ann"), offered), { type, offer_id: "o-1" });
    expect(state.offers).toEqual([]);
  });

  it("an accepted offer becomes a chat in My Communication", () => {
    const state = applyFrame(applyFrame(initialState("ann"), offered), started);
    expect(state.offers).toEqual([]);
    expect(leading(state).map((c) => [c.session_id, c.status])).toEqual([["o-1", "active"]]);
  });

  it("messages keep their sequence order, a repeat is dropped, unread counts the visitor's", () => {
    let state = applyFrame(initialState("ann"), started);
    for (const frame of [posted(2), posted(1), posted(2), posted(3, "operator")]) state = applyFrame(state, frame);
    const chat = state.chats["o-1"];
    expect(chat.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(chat.unread).toBe(2);
    expect(openChat(state, "o-1").chats["o-1"].unread).toBe(0);
  });

  it("an open chat's new messages are not unread", () => {
    const state = applyFrame(openChat(applyFrame(initialState("ann"), started), "o-1"), posted(1));
    expect(state.chats["o-1"].unread).toBe(0);
  });

  it("hold, resume and end change the chat's state; an ended chat leaves My Communication", () => {
    let state = applyFrame(initialState("ann"), started);
    state = applyFrame(state, { type: "ChatHeld", session_id: "o-1" });
    expect(state.chats["o-1"].status).toBe("on_hold");
    state = applyFrame(state, { type: "ChatResumed", session_id: "o-1" });
    expect(state.chats["o-1"].status).toBe("active");
    state = applyFrame(state, { type: "ChatEnded", session_id: "o-1" });
    expect(leading(state)).toEqual([]);
  });

  it("being set away for an unanswered offer is said in plain words", () => {
    const state = applyFrame(initialState("ann"), {
      type: "OperatorPresenceChanged",
      operator_id: "ann",
      presence: "away",
      reason: "offer_timed_out",
    });
    expect(state.presence).toBe("away");
    expect(state.presenceNote).toBe("Set away because an incoming chat request was not answered in time.");
  });

  it("a rejected command is shown with the action's name and the reason", () => {
    const state = applyFrame(initialState("ann"), {
      type: "CommandRejected",
      command_type: "RequestNextChat",
      reason: "nobody is waiting in the chat queue",
    });
    expect(state.notices.map((n) => n.text)).toEqual(["Next chat could not be done: Nobody is waiting in the chat queue."]);
  });

  it("Next message hands this operator the message to answer", () => {
    const state = applyFrame(initialState("ann"), {
      type: "OfflineMessageTaken",
      offline_message_id: "m-1",
      operator_id: "ann",
      visitor_id: "v-9",
      name: "Dee",
      email: "dee@example.com",
      text: "call me",
      left_at: "2026-01-01T09:00:00Z",
    });
    expect(state.taken?.name).toBe("Dee");
  });
});

describe("catching up after a reconnect", () => {
  it("chats the session service no longer lists have ended; known transcripts are kept", () => {
    let state = applyFrame(applyFrame(initialState("ann"), started), posted(1));
    state = applySessions(state, [
      { session_id: "s-2", visitor_id: "v-2", operator_id: "ann", channel: "call", status: "on_hold", started_at: "", last_seq: 0 },
    ]);
    expect(state.chats["o-1"].status).toBe("ended");
    expect(state.chats["o-1"].messages).toHaveLength(1);
    expect(leading(state).map((c) => [c.session_id, c.channel, c.status])).toEqual([["s-2", "call", "on_hold"]]);
  });

  it("messages missed while away are merged into their transcripts in order", () => {
    const state = applyFrame(applyFrame(initialState("ann"), started), posted(3));
    const missed: TranscriptMessage[] = [1, 2].map((seq) => ({
      session_id: "o-1",
      seq,
      author: "visitor",
      author_id: "v-1",
      client_message_id: `c-${seq}`,
      text: `m${seq}`,
      posted_at: "",
    }));
    expect(applyMessages(state, missed).chats["o-1"].messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("mergeMessages keeps the newest copy of a sequence number once", () => {
    const m = (seq: number, text: string): TranscriptMessage => ({
      session_id: "s",
      seq,
      author: "visitor",
      author_id: "v",
      client_message_id: "c",
      text,
      posted_at: "",
    });
    expect(mergeMessages([m(1, "a"), m(2, "b")], [m(2, "b"), m(3, "c")]).map((x) => x.text)).toEqual(["a", "b", "c"]);
  });
});

describe("pending offers after a (re)connect", () => {
  const pending = (id: string, expires = "2026-01-01T10:00:30Z"): Offer => ({
    offer_id: id,
    visitor_id: `v-${id}`,
    channel: "chat",
    waiting_since: "2026-01-01T10:00:00Z",
    expires_at: expires,
  });
  const now = Date.parse("2026-01-01T10:00:10Z");
  const ids = (offers: Offer[]) => offers.map((o) => o.offer_id);

  it("an offer made while the socket was down is shown from the summary", () => {
    const state = applyPendingOffers(initialState("ann"), [pending("o-9")], [], now);
    expect(state.offers).toEqual([pending("o-9")]);
  });

  it("an offer shown before the reconnect and no longer listed was closed meanwhile", () => {
    const before = applyFrame(initialState("ann"), offered);
    expect(applyPendingOffers(before, [], ["o-1"], now).offers).toEqual([]);
    expect(ids(applyPendingOffers(before, [pending("o-1")], ["o-1"], now).offers)).toEqual(["o-1"]);
  });

  it("an offer shown before the reconnect stays on a first read that may lag", () => {
    const before = applyFrame(initialState("ann"), offered);
    // the console's first read after a reconnect takes nothing for closed; a second one does
    expect(ids(applyPendingOffers(before, [], [], now).offers)).toEqual(["o-1"]);
  });

  it("an offer that came on the new socket stays though the summary does not have it yet", () => {
    const fresh = applyFrame(initialState("ann"), offered);
    expect(ids(applyPendingOffers(fresh, [pending("o-9")], [], now).offers)).toEqual(["o-1", "o-9"]);
  });

  it("an answered or closed offer, or an expired one, is not brought back by a lagging summary", () => {
    let state = answered(applyFrame(initialState("ann"), offered), "o-1");
    expect(state.offers).toEqual([]);
    state = applyFrame(applyFrame(state, { ...offered, offer_id: "o-2" }), { type: "OfferTimedOut", offer_id: "o-2" });
    const lagging = [pending("o-1"), pending("o-2"), pending("o-3", "2026-01-01T10:00:05Z")];
    expect(applyPendingOffers(state, lagging, [], now).offers).toEqual([]);
  });

  it("an offer that became a chat is not brought back either", () => {
    const state = applyFrame(applyFrame(initialState("ann"), offered), started);
    expect(applyPendingOffers(state, [pending("o-1")], [], now).offers).toEqual([]);
  });
});

describe("the operator's presence after a reconnect", () => {
  const online = { type: "OperatorPresenceChanged", operator_id: "ann", presence: "online", reason: "operator" };

  it("is what the summary says when no presence frame came while it was read", () => {
    const state = applyMyPresence(initialState("ann"), { presence: "away", presence_reason: "offer_timed_out" }, false);
    expect(state.presence).toBe("away");
    expect(state.presenceNote).not.toBeNull();
  });

  it("stays as a presence frame that overtook the read set it (the summary lags)", () => {
    const state = applyFrame(initialState("ann"), online);
    expect(applyMyPresence(state, { presence: "offline", presence_reason: "operator" }, true).presence).toBe("online");
  });
});

describe("the Site Monitor", () => {
  const browsing = {
    visitor_id: "v-7",
    page: "https://shop.example.com/",
    title: "Shop",
    referrer: null,
    time_on_site_seconds: 12,
    visits: 1,
    pages_viewed: 1,
    last_seen: "2026-01-01T10:00:00Z",
  };

  it("a pushed SiteMonitor frame replaces the browsing visitors, from the moment it came", () => {
    let state = applyFrame(initialState("ann"), { type: "SiteMonitor", visitors: [browsing], as_of: "x" }, 1000);
    expect(state.monitor).toEqual({ visitors: [browsing], browsing: 1, at: 1000 });
    state = applyFrame(state, { type: "SiteMonitor", visitors: [], browsing: 0, as_of: "y" }, 3000);
    expect(state.monitor).toEqual({ visitors: [], browsing: 0, at: 3000 });
  });

  it("a big site's frame lists the first visitors and says how many browse", () => {
    const state = applyFrame(initialState("ann"), { type: "SiteMonitor", visitors: [browsing], browsing: 750, as_of: "x" }, 1000);
    expect(state.monitor).toEqual({ visitors: [browsing], browsing: 750, at: 1000 });
  });
});
