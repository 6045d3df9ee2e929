// My Communication, Chat overview and the Visitor profile's Live Communication.
import { useEffect, useRef, useState } from "preact/hooks";
import { newClientMessageId } from "../common/api";
import type { Badge, BrowsingVisitor, ChatLimit } from "../common/types";
import { badgeLabel, channelWord } from "../common/words";
import type { Chat } from "./state";
import type { Live } from "./useConsole";

type Step = "hold" | "resume" | "end";

export function chatStep(live: Live, chat: Chat, step: Step) {
  void live.act(() => live.api.post(`/v1/operator/sessions/${chat.session_id}/${step}`));
}

function stateWord(chat: Chat): string {
  return chat.status === "on_hold" ? "On hold" : chat.status === "ended" ? "Ended" : "Active";
}

export function ChatSteps({ live, chat }: { live: Live; chat: Chat }) {
  if (chat.status === "ended") return null;
  return (
    <span class="steps">
      {chat.status === "active" ? (
        <button onClick={() => chatStep(live, chat, "hold")}>Hold</button>
      ) : (
        <button onClick={() => chatStep(live, chat, "resume")}>Resume</button>
      )}
      <button onClick={() => chatStep(live, chat, "end")}>End</button>
    </span>
  );
}

interface ListProps {
  live: Live;
  chats: Chat[];
  limit: ChatLimit | null;
  open: (chat: Chat) => void;
  openProfile: (visitorId: string) => void;
}

function limitWords(limit: ChatLimit | null): string {
  if (!limit) return "";
  return limit.operator_max_chats === null
    ? "the site's maximum"
    : `your own maximum; the site's is ${limit.site_max_chats}`;
}

export function MyCommunication({ live, chats, limit, open, openProfile }: ListProps) {
  return (
    <section aria-labelledby="my-communication">
      <h2 id="my-communication">My Communication</h2>
      <p class="muted" data-testid="capacity">
        {chats.filter((c) => c.channel === "chat").length} chats of at most{" "}
        <b data-testid="max-chats">{limit?.effective_max_chats ?? "?"}</b> ({limitWords(limit)}; held
        chats count), {chats.filter((c) => c.channel === "call").length} calls
      </p>
      {chats.length === 0 && <p>No chats right now.</p>}
      <ul class="rows">
        {chats.map((chat) => (
          <li key={chat.session_id} data-session={chat.session_id} class={`row ${chat.status}`}>
            <span class="badge" onDblClick={() => openProfile(chat.visitor_id)}>
              {badgeLabel(live.badges[chat.visitor_id], chat.visitor_id)}
            </span>
            <span class="channel">{channelWord(chat.channel)}</span>
            <span class="state" data-testid="chat-state">{stateWord(chat)}</span>
            <span class="unread" data-testid="unread" aria-label="unread messages">
              {chat.unread > 0 ? chat.unread : ""}
            </span>
            <button onClick={() => open(chat)}>Open</button>
            <ChatSteps live={live} chat={chat} />
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ChatOverview({ live, openProfile }: { live: Live; openProfile: (visitorId: string) => void }) {
  const all = Object.values(live.state.chats)
    .filter((c) => c.status !== "ended")
    .flatMap((c) => c.messages.map((m) => ({ m, c })))
    .sort((a, b) => Date.parse(b.m.posted_at) - Date.parse(a.m.posted_at) || b.m.seq - a.m.seq);
  return (
    <section aria-labelledby="chat-overview">
      <h2 id="chat-overview">Chat overview</h2>
      {all.length === 0 && <p>No messages in your chats yet.</p>}
      <ul class="rows">
        {all.map(({ m, c }) => (
          <li key={`${m.session_id}-${m.seq}`} class="row">
            <span class="muted">{new Date(m.posted_at).toLocaleTimeString()}</span>
            <span>{m.author === "visitor" ? badgeLabel(live.badges[c.visitor_id], c.visitor_id) : "You"}:</span>
            <span class="text">{m.text}</span>
            <a href="#" onClick={(e) => { e.preventDefault(); openProfile(c.visitor_id); }}>
              Site visitor
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

interface ProfileProps {
  live: Live;
  visitorId: string;
  chat: Chat | undefined;
  badge: Badge | undefined;
  browsing: BrowsingVisitor | undefined;
  close: () => void;
}

export function VisitorProfile({ live, visitorId, chat, badge, browsing, close }: ProfileProps) {
  const [draft, setDraft] = useState("");
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => end.current?.scrollIntoView?.({ block: "nearest" }), [chat?.messages.length]);
  const send = (e: Event) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text || !chat) return;
    setDraft("");
    void live.act(() =>
      live.api.post(`/v1/operator/sessions/${chat.session_id}/messages`, {
        client_message_id: newClientMessageId(),
        text,
      }),
    );
  };
  return (
    <section class="profile" aria-labelledby="visitor-profile">
      <h2 id="visitor-profile">
        Visitor profile <button class="link" onClick={close}>Close</button>
      </h2>
      <dl class="details">
        <dt>Badge</dt>
        <dd data-testid="profile-name">{badgeLabel(badge, visitorId)}</dd>
        {badge?.email && (<><dt>E-mail</dt><dd>{badge.email}</dd></>)}
        {(browsing?.page || badge?.current_page) && (<><dt>Page</dt><dd>{browsing?.page ?? badge?.current_page}</dd></>)}
        {(browsing?.referrer || badge?.referrer) && (<><dt>Came from</dt><dd>{browsing?.referrer ?? badge?.referrer}</dd></>)}
        {browsing && (<><dt>Pages viewed</dt><dd>{browsing.pages_viewed}</dd><dt>Visits</dt><dd>{browsing.visits}</dd></>)}
        {badge?.location && (<><dt>Location</dt><dd>{badge.location}</dd></>)}
      </dl>
      <h3>Live Communication</h3>
      {!chat && <p>No chat with this visitor now.</p>}
      {chat && (
        <>
          <p>
            {channelWord(chat.channel)} · <span data-testid="live-state">{stateWord(chat)}</span>{" "}
            <ChatSteps live={live} chat={chat} />
          </p>
          <ol class="transcript" aria-label="Transcript">
            {chat.messages.map((m) => (
              <li key={m.seq} class={m.author} data-seq={m.seq}>
                <span class="seq">#{m.seq}</span> <b>{m.author === "visitor" ? badgeLabel(badge, visitorId) : "You"}</b>: {m.text}
              </li>
            ))}
            <li ref={end} class="end" aria-hidden="true" />
          </ol>
          {chat.status !== "ended" && (
            <form onSubmit={send} class="reply">
              <label>
                Reply
                <input value={draft} onInput={(e) => setDraft(e.currentTarget.value)} maxLength={4000} />
              </label>
              <button type="submit">Send</button>
            </form>
          )}
        </>
      )}
    </section>
  );
}
