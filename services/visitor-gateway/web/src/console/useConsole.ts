// The console's connection to the gateway: the operator socket and the summary stream, both
// reconnecting by themselves, and the re-reads that catch the page up after each (re)connect.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api, ApiError } from "../common/api";
import { coalesced } from "../common/coalesce";
import { LiveSocket, socketUrl, type Frame, type Link } from "../common/socket";
import { followStream } from "../common/sse";
import type {
  Badge,
  ChatLimit,
  CommunicationQueue,
  MySummary,
  OfflineMessage,
  Presence,
  SessionView,
  SiteMonitorView,
  SiteSummary,
  TranscriptMessage,
} from "../common/types";
import {
  addNotice,
  applyFrame,
  applyMessages,
  applyMonitor,
  applyMyPresence,
  applyPendingOffers,
  applySessions,
  initialState,
  type ConsoleState,
} from "./state";

export interface Live {
  api: Api;
  state: ConsoleState;
  update: (change: (s: ConsoleState) => ConsoleState) => void;
  link: Link;
  streamUp: boolean;
  summary: SiteSummary | null;
  mine: MySummary | null;
  queue: CommunicationQueue | null;
  messageQueue: OfflineMessage[];
  badges: Record<string, Badge>;
  role: "operator" | "admin" | null;
  limit: ChatLimit | null;
  setPresence: (p: Presence) => Promise<void>;
  act: (run: () => Promise<unknown>) => Promise<void>;
  refreshMessageQueue: () => Promise<void>;
}

/** How long a lagging summary gets to list an offer the console showed before a reconnect
 * (its lag is milliseconds when it keeps up) before the console takes the offer for closed. */
const SUMMARY_LAG_GRACE_MS = 2000;

export function useConsole(token: string, me: string): Live {
  const api = useMemo(() => new Api("", () => token), [token]);
  const [state, setState] = useState<ConsoleState>(() => initialState(me));
  const [link, setLink] = useState<Link>({ state: "connecting" });
  const [streamUp, setStreamUp] = useState(false);
  const [summary, setSummary] = useState<SiteSummary | null>(null);
  const [mine, setMine] = useState<MySummary | null>(null);
  const [queue, setQueue] = useState<CommunicationQueue | null>(null);
  const [messageQueue, setMessageQueue] = useState<OfflineMessage[]>([]);
  const [badges, setBadges] = useState<Record<string, Badge>>({});
  const [role, setRole] = useState<"operator" | "admin" | null>(null);
  const [limit, setLimit] = useState<ChatLimit | null>(null);
  // What the operator chose last: re-sent after a reconnect, since nothing sets anyone online
  // by itself; cleared when the queue manager set them away for an unanswered offer.
  const wanted = useRef<Presence | null>(null);
  // SiteMonitor frames so far: a read answered before a frame that overtook it is dropped
  const monitorPushes = useRef(0);
  // This operator's OperatorPresenceChanged frames so far: the same for the summary's presence
  const presenceFrames = useRef(0);

  const act = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      const text = error instanceof ApiError ? error.message : `Request failed: ${String(error)}`;
      setState((s) => addNotice(s, "rejected", text));
    }
  };

  const readQueue = async () => {
    const q = await api.get<CommunicationQueue>("/v1/operator/queue");
    setQueue(q);
    setBadges((known) => {
      const next = { ...known };
      for (const v of q.visitors) next[v.visitor_id] = v.badge;
      return next;
    });
    return q;
  };
  /** The offered visitor's badge, from the Communication Queue: the offer can reach this socket
   * before the queue's read model has the visitor (a projector just started lags by seconds),
   * so it is read again (for 10 s at most, 0.5 s apart) until the visitor is there. */
  const badgeOf = async (visitorId: string) => {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (attempt) await new Promise((resolve) => setTimeout(resolve, 500));
      try {
        const q = await readQueue();
        if (q.visitors.some((v) => v.visitor_id === visitorId)) return;
      } catch {
        return;
      }
    }
  };
  const refreshMessageQueue = async () => {
    const mq = await api.get<{ messages: OfflineMessage[] }>("/v1/operator/offline-messages?status=waiting");
    setMessageQueue(mq.messages);
  };
  /** The Site Monitor once, after a (re)connect: then the gateway pushes its changes. */
  const readMonitor = async () => {
    const pushes = monitorPushes.current;
    const found = await api.get<SiteMonitorView>("/v1/operator/site-monitor");
    if (monitorPushes.current === pushes) setState((s) => applyMonitor(s, found, Date.now()));
  };
  const readMine = async () => {
    const m = await api.get<MySummary>("/v1/operator/summary/me");
    setMine(m);
    if (m.max_chats !== limit?.effective_max_chats) {
      setLimit(await api.get<ChatLimit>("/v1/operator/chat-limit"));
    }
    return m;
  };

  const catchUp = async () => {
    // the offers shown before this (re)connect: those the summary does not list (twice) closed
    const shownBefore = state.offers.map((o) => o.offer_id);
    const framesBefore = presenceFrames.current;
    await act(async () => {
      if (role === null) setRole((await api.get<{ role: "operator" | "admin" }>("/v1/operator/me")).role);
      const { sessions } = await api.get<{ sessions: SessionView[] }>("/v1/operator/sessions");
      const page = await api.get<{ messages: TranscriptMessage[] }>("/v1/operator/messages?page_size=200");
      setState((s) => applyMessages(applySessions(s, sessions), page.messages));
      const m = await readMine();
      // Shown before and not listed: closed meanwhile, or the summary has not applied its
      // ChatOffered yet. Kept for now; dropped if the summary still lacks it a moment later.
      const listed = new Set((m.offers ?? []).map((o) => o.offer_id));
      const unlisted = shownBefore.filter((id) => !listed.has(id));
      // a presence frame that came while the summary was read is newer than it
      const overtook = presenceFrames.current !== framesBefore;
      setState((s) => applyMyPresence(applyPendingOffers(s, m.offers ?? [], [], Date.now()), m, overtook));
      const askedAgain = wanted.current !== null && wanted.current !== m.presence;
      const framesAtAsk = presenceFrames.current;
      if (askedAgain) {
        // set away (or offline) while disconnected, or the summary lags: ask again for what the
        // operator chose (no frame comes if it was so already)
        await api.put("/v1/operator/presence", { presence: wanted.current });
      }
      await readQueue();
      await refreshMessageQueue();
      await readMonitor();
      if (unlisted.length || askedAgain) {
        // a second look, once a lagging summary has caught up
        await new Promise((resolve) => setTimeout(resolve, SUMMARY_LAG_GRACE_MS));
        const again = await readMine();
        // a presence frame since the console asked again is the answer itself
        const keep = !askedAgain || presenceFrames.current !== framesAtAsk;
        setState((s) => applyMyPresence(applyPendingOffers(s, again.offers ?? [], unlisted, Date.now()), again, keep));
      }
    });
  };

  const setPresence = async (presence: Presence) => {
    wanted.current = presence;
    await act(() => api.put("/v1/operator/presence", { presence }));
  };

  const latest = useRef({ catchUp, readQueue, readMine, refreshMessageQueue, badgeOf });
  latest.current = { catchUp, readQueue, readMine, refreshMessageQueue, badgeOf };

  useEffect(() => {
    const onFrame = (frame: Frame) => {
      setState((s) => applyFrame(s, frame));
      const calls = latest.current;
      switch (frame.type) {
        case "Connected":
        case "Resync":
          void calls.catchUp();
          break;
        case "ChatOffered":
          void calls.badgeOf(String(frame.visitor_id));
          break;
        case "OperatorPresenceChanged":
          if (frame.operator_id !== me) break;
          presenceFrames.current += 1;
          if (frame.reason === "offer_timed_out") wanted.current = "away";
          break;
        case "SiteMonitor":
          monitorPushes.current += 1;
          break;
      }
    };
    const rereadLists = coalesced(() => {
      const calls = latest.current;
      return Promise.all([calls.readQueue(), calls.readMine(), calls.refreshMessageQueue()]);
    });
    const socket = new LiveSocket(socketUrl("", "/v1/operator/ws"), token, onFrame, setLink);
    socket.start();
    const stop = followStream("/v1/operator/summary/stream?view=full", token, {
      onEvent: (event, data) => {
        if (event !== "summary") return;
        setSummary(JSON.parse(data) as SiteSummary);
        // The summary changes with every routing event: the lists behind it are re-read then
        // (pushed, never polled), one re-read for a burst of changes.
        void rereadLists();
      },
      onLink: (up) => setStreamUp(up),
    });
    return () => {
      socket.stop();
      stop();
    };
  }, [token]);

  return {
    api,
    state,
    update: setState,
    link,
    streamUp,
    summary,
    mine,
    queue,
    messageQueue,
    badges,
    role,
    limit,
    setPresence,
    act,
    refreshMessageQueue,
  };
}
