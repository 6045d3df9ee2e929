// The visitor widget: ask for a chat or a call, wait with a live place in the queue, leave a
// message instead, answer an invitation, chat (and see the hold), end.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api, ApiError, newClientMessageId } from "../common/api";
import { LiveSocket, socketUrl, type Frame, type Link } from "../common/socket";
import type { Channel } from "../common/types";
import { applySession, applyVisitorFrame, idle, waitWords, type WidgetState } from "./state";

interface Identity {
  visitor_id: string;
  token: string;
}

interface Props {
  base: string;
  site: string;
  heartbeatSeconds: number;
}

const storeKey = (site: string) => `livechat.widget.${site}`;
const chatKey = (site: string) => `livechat.widget.${site}.chat`;

export function Widget({ base, site, heartbeatSeconds }: Props) {
  const [identity, setIdentity] = useState<Identity | null>(() => {
    try {
      return JSON.parse(localStorage.getItem(storeKey(site)) ?? "null") as Identity | null;
    } catch {
      return null;
    }
  });
  const token = useRef<string | null>(identity?.token ?? null);
  token.current = identity?.token ?? null;
  const api = useMemo(() => new Api(base, () => token.current), [base]);
  const [state, setState] = useState<WidgetState>(idle);
  const [open, setOpen] = useState(false);
  const [link, setLink] = useState<Link>({ state: "connecting" });
  const [config, setConfig] = useState<{ offer_message_after_seconds: number; operators_online: number | null } | null>(null);
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [text, setText] = useState("");
  const [draft, setDraft] = useState("");
  const [now, setNow] = useState(Date.now());

  const fail = (error: unknown) =>
    setState((s) => ({ ...s, notice: error instanceof ApiError ? error.message : "Something went wrong; please try again." }));

  // An identity for this browser, kept across pages of the site.
  useEffect(() => {
    if (identity) return;
    api
      .post<Identity>(`/v1/sites/${encodeURIComponent(site)}/visitors`)
      .then((made) => {
        localStorage.setItem(storeKey(site), JSON.stringify({ visitor_id: made.visitor_id, token: made.token }));
        setIdentity(made);
      })
      .catch(fail);
  }, [identity]);

  // The socket, and what it catches up after each (re)connect.
  useEffect(() => {
    if (!identity) return;
    const onFrame = (frame: Frame) => {
      setState((s) => applyVisitorFrame(s, frame));
      if (frame.type === "ChatStarted") sessionStorage.setItem(chatKey(site), String(frame.session_id));
      // Catch up after a reconnect (or when the gateway asks): only when there is a chat to read,
      // since a visitor who never chatted has none (404).
      const resync = frame.type === "Resync";
      if ((frame.type === "Connected" && sessionStorage.getItem(chatKey(site))) || resync) {
        api
          .get<Parameters<typeof applySession>[1]>("/v1/visitor/session")
          .then((read) => setState((s) => applySession(s, read)))
          .catch(() => {});
      }
      if (frame.type === "VisitorInvited" || frame.type === "ChatStarted") setOpen(true);
    };
    const onLink = (l: Link) => {
      setLink(l);
      if (l.state === "refused") {
        localStorage.removeItem(storeKey(site)); // an expired identity: start afresh
        setIdentity(null);
      }
    };
    const socket = new LiveSocket(socketUrl(base, "/v1/visitor/ws"), identity.token, onFrame, onLink);
    socket.start();
    return () => socket.stop();
  }, [identity]);

  // Site Monitor heartbeats while the page is open.
  useEffect(() => {
    if (!identity) return;
    const beat = () =>
      void api
        .post("/v1/visitor/heartbeat", {
          page: window.location.href,
          title: document.title.slice(0, 300) || null,
          referrer: document.referrer || null,
        })
        .catch(() => {});
    beat();
    const timer = setInterval(beat, heartbeatSeconds * 1000);
    return () => clearInterval(timer);
  }, [identity]);

  useEffect(() => {
    if (!open) return;
    api
      .get<typeof config>(`/v1/sites/${encodeURIComponent(site)}/widget`)
      .then((c) => {
        setConfig(c);
        if (c?.operators_online === 0) setState((s) => (s.phase === "idle" ? { ...s, phase: "message" } : s));
      })
      .catch(() => {});
  }, [open]);

  useEffect(() => {
    if (state.phase !== "waiting") return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [state.phase]);

  const badge = () => ({ name: name.trim() || null, email: email.trim() || null });
  const ask = (channel: Channel) =>
    api
      .post("/v1/visitor/chat-requests", { channel, badge: badge() })
      .then(() => setState((s) => ({ ...s, phase: "waiting", channel, waitingSince: new Date().toISOString(), notice: null })))
      .catch(fail);
  const leaveQueue = () => api.delete("/v1/visitor/queue").catch(fail);
  const leaveMessage = (e: Event) => {
    e.preventDefault();
    api
      .post("/v1/visitor/offline-messages", { name: name.trim(), email: email.trim(), text: text.trim() })
      .then(() => setState((s) => ({ ...s, phase: "message-sent", notice: null })))
      .catch(fail);
  };
  const say = (e: Event) => {
    e.preventDefault();
    const words = draft.trim();
    if (!words || !state.sessionId) return;
    setDraft("");
    api
      .post(`/v1/visitor/sessions/${state.sessionId}/messages`, { client_message_id: newClientMessageId(), text: words })
      .catch(fail);
  };
  const answerInvitation = (how: "accept" | "decline") => {
    const invitation = state.invitation;
    if (!invitation) return;
    api
      .post(`/v1/visitor/invitations/${invitation.id}/${how}`)
      .then(() => how === "decline" && setState((s) => ({ ...s, phase: "idle", invitation: null })))
      .catch(fail);
  };

  const waited = state.waitingSince ? (now - Date.parse(state.waitingSince)) / 1000 : 0;
  const offerMessage = config !== null && waited >= config.offer_message_after_seconds;

  return (
    <div class="root">
      {open && (
        <div class="panel" role="dialog" aria-label="Live chat">
          {link.state === "down" && <p class="notice">Connection lost; reconnecting…</p>}
          {state.notice && <p class="notice" role="alert">{state.notice}</p>}
          {state.phase === "idle" && (
            <form onSubmit={(e) => { e.preventDefault(); void ask("chat"); }}>
              <h2>Talk to us</h2>
              <label>Name<input value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={200} /></label>
              <label>E-mail (optional)<input type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} maxLength={320} /></label>
              <div class="row">
                <button class="primary" type="submit">Start chat</button>
                <button type="button" onClick={() => void ask("call")}>Call us</button>
              </div>
              <button type="button" class="link" onClick={() => setState((s) => ({ ...s, phase: "message" }))}>Leave a message</button>
            </form>
          )}
          {state.phase === "waiting" && (
            <div>
              <h2>Waiting for an operator</h2>
              <p>
                Your place in the queue: <span class="big" data-testid="position">{state.position ?? "…"}</span>
                {state.totalWaiting !== null && <span class="muted"> of {state.totalWaiting} waiting</span>}
              </p>
              <p>Estimated wait: <span data-testid="estimate">{waitWords(state.estimatedWaitSeconds)}</span></p>
              <div class="row">
                <button type="button" onClick={() => void leaveQueue().then(() => setState((s) => ({ ...s, phase: "idle" })))}>Leave the queue</button>
                {offerMessage && (
                  <button type="button" onClick={() => void leaveQueue().then(() => setState((s) => ({ ...s, phase: "message" })))}>
                    Leave a message instead
                  </button>
                )}
              </div>
            </div>
          )}
          {state.phase === "invited" && (
            <div>
              <h2>An operator invites you to {state.invitation?.channel === "call" ? "a call" : "a chat"}</h2>
              <div class="row">
                <button class="primary" onClick={() => answerInvitation("accept")}>Accept invitation</button>
                <button onClick={() => answerInvitation("decline")}>No, thanks</button>
              </div>
            </div>
          )}
          {(state.phase === "chatting" || state.phase === "ended") && (
            <div>
              <h2>{state.channel === "call" ? "Call" : "Chat"} with an operator</h2>
              {state.held && <p class="held" data-testid="held">The operator put the chat on hold; please wait.</p>}
              <ol aria-label="Transcript">
                {state.messages.map((m) => (
                  <li key={m.seq} class={m.author}>
                    <b>{m.author === "operator" ? "Operator" : "You"}:</b> {m.text}
                  </li>
                ))}
              </ol>
              {state.phase === "chatting" ? (
                <form onSubmit={say}>
                  <label>Your message<input value={draft} onInput={(e) => setDraft(e.currentTarget.value)} maxLength={4000} /></label>
                  <div class="row">
                    <button class="primary" type="submit">Send</button>
                    <button type="button" onClick={() => state.sessionId && void api.post(`/v1/visitor/sessions/${state.sessionId}/end`).catch(fail)}>End chat</button>
                  </div>
                </form>
              ) : (
                <div>
                  <p data-testid="ended">The chat has ended. Thank you!</p>
                  <button onClick={() => setState({ ...idle })}>Start a new chat</button>
                </div>
              )}
            </div>
          )}
          {state.phase === "message" && (
            <form onSubmit={leaveMessage}>
              <h2>Leave a message</h2>
              {config?.operators_online === 0 && <p class="muted">Nobody is online right now; we will answer by e-mail.</p>}
              <label>Name<input required value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={200} /></label>
              <label>E-mail<input required type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} maxLength={320} /></label>
              <label>Message<textarea required value={text} onInput={(e) => setText(e.currentTarget.value)} rows={4} maxLength={10000} /></label>
              <div class="row">
                <button class="primary" type="submit">Send message</button>
                <button type="button" class="link" onClick={() => setState((s) => ({ ...s, phase: "idle" }))}>Back</button>
              </div>
            </form>
          )}
          {state.phase === "message-sent" && <p data-testid="message-sent">Thank you — your message was left; we will answer by e-mail.</p>}
        </div>
      )}
      <button class="launcher" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? "Close" : "Chat with us"}
      </button>
    </div>
  );
}
