// Communication Queue (manual pick for a text or voice chat), Message Queue (Next message,
// reply, close) and Site Monitor (Invite).
import { useState } from "preact/hooks";
import { badgeLabel, channelWord, duration } from "../common/words";
import { secondsSince, useNow } from "./hooks";
import type { Live } from "./useConsole";

export function CommunicationQueue({ live, openProfile }: { live: Live; openProfile: (id: string) => void }) {
  const now = useNow();
  const [selected, setSelected] = useState<string | null>(null);
  const visitors = live.queue?.visitors ?? [];
  const chosen = visitors.find((v) => v.visitor_id === selected && v.status === "waiting");
  const pick = (channel: "chat" | "call") =>
    chosen && void live.act(() => live.api.post("/v1/operator/pick", { visitor_id: chosen.visitor_id, channel }));
  return (
    <section aria-labelledby="communication-queue">
      <h2 id="communication-queue">Communication Queue</h2>
      <p class="muted">Communication Overview: visitors waiting for an operator, oldest first.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">In Queue</th>
            <th scope="col">Badge</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {visitors.map((v) => (
            <tr
              key={v.visitor_id}
              class={selected === v.visitor_id ? "selected" : ""}
              data-visitor={v.visitor_id}
              onClick={() => setSelected(v.visitor_id)}
            >
              <td>{duration(secondsSince(v.waiting_since, now))}</td>
              <td>
                <label>
                  <input
                    type="radio"
                    name="queue-pick"
                    checked={selected === v.visitor_id}
                    onChange={() => setSelected(v.visitor_id)}
                  />{" "}
                  <span class="badge" onDblClick={() => openProfile(v.visitor_id)}>
                    {badgeLabel(v.badge, v.visitor_id)}
                  </span>
                </label>
              </td>
              <td>{channelWord(v.channel)}</td>
              <td>{v.status === "offered" ? "Offered" : "Waiting"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {visitors.length === 0 && <p>Nobody is waiting.</p>}
      <div class="actions">
        <button disabled={!chosen} onClick={() => pick("chat")}>Start text chat</button>
        <button disabled={!chosen} onClick={() => pick("call")}>Start voice chat</button>
      </div>
    </section>
  );
}

export function MessageQueue({ live }: { live: Live }) {
  const [reply, setReply] = useState("");
  const taken = live.state.taken;
  const done = () => {
    setReply("");
    live.update((s) => ({ ...s, taken: null }));
  };
  return (
    <section aria-labelledby="message-queue">
      <h2 id="message-queue">Message Queue</h2>
      <div class="actions">
        <button onClick={() => void live.act(() => live.api.post("/v1/operator/offline-messages/next"))}>
          Next message
        </button>
      </div>
      {taken && (
        <article class="card" aria-label="Message to answer" data-message={taken.offline_message_id}>
          <h3>
            {taken.name} <span class="muted">&lt;{taken.email}&gt;</span>
          </h3>
          <p class="muted">left {new Date(taken.left_at).toLocaleString()}</p>
          <blockquote>{taken.text}</blockquote>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!reply.trim()) return;
              void live.act(async () => {
                await live.api.post(`/v1/operator/offline-messages/${taken.offline_message_id}/reply`, { text: reply.trim() });
                done();
              });
            }}
          >
            <label>
              Reply (sent by e-mail)
              <textarea value={reply} onInput={(e) => setReply(e.currentTarget.value)} rows={3} />
            </label>
            <button type="submit">Send reply</button>
            <button
              type="button"
              onClick={() =>
                void live.act(async () => {
                  await live.api.post(`/v1/operator/offline-messages/${taken.offline_message_id}/close`);
                  done();
                })
              }
            >
              Close
            </button>
          </form>
        </article>
      )}
      <h3>Waiting, oldest first</h3>
      {live.messageQueue.length === 0 && <p>No message is waiting.</p>}
      <ul class="rows">
        {live.messageQueue.map((m) => (
          <li key={m.offline_message_id} class="row">
            <span>{m.name}</span>
            <span class="muted">{new Date(m.left_at).toLocaleTimeString()}</span>
            <span class="text">{m.text}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function SiteMonitor({ live, openProfile }: { live: Live; openProfile: (id: string) => void }) {
  const now = useNow();
  const { visitors, browsing, at } = live.state.monitor;
  return (
    <section aria-labelledby="site-monitor">
      <h2 id="site-monitor">Site Monitor</h2>
      <p class="muted">Visitors browsing now, updated as they come, move and leave.</p>
      {browsing > visitors.length && (
        <p data-testid="monitor-more">
          Showing the {visitors.length} longest on the site of {browsing} browsing now.
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Visitor</th>
            <th scope="col">Page</th>
            <th scope="col">Time on site</th>
            <th scope="col">Pages viewed</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {visitors.map((v) => (
            <tr key={v.visitor_id} data-visitor={v.visitor_id}>
              <td>
                <span class="badge" onDblClick={() => openProfile(v.visitor_id)}>
                  {badgeLabel(live.badges[v.visitor_id], v.visitor_id)}
                </span>
              </td>
              <td>{v.title || v.page}</td>
              <td>{duration(v.time_on_site_seconds + (now - at) / 1000)}</td>
              <td>{v.pages_viewed}</td>
              <td>
                <button onClick={() => void live.act(() => live.api.post("/v1/operator/invitations", { visitor_id: v.visitor_id, channel: "chat" }))}>
                  Invite
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {visitors.length === 0 && <p>Nobody is browsing now.</p>}
    </section>
  );
}
