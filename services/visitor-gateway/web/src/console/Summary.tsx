// Communication Summary: fixed at the bottom of every section; In Progress and Queues with the
// three Next buttons, rolled up to a small window that shows only the Queues.
import { useState } from "preact/hooks";
import type { SiteSummary } from "../common/types";

interface Props {
  summary: SiteSummary | null;
  live: boolean;
  next: (what: "chat" | "call" | "message") => void;
}

export function Summary({ summary, live, next }: Props) {
  const [rolledUp, setRolledUp] = useState(false);
  const q = summary?.queues;
  const queues = (
    <div class="summary-group">
      <h3>Queues</h3>
      <span>
        Messages <b data-testid="queue-messages">{q ? q.messages.waiting : "–"}</b>
      </span>
      <span>
        Chats <b data-testid="queue-chats">{q ? q.chats.waiting : "–"}</b>
      </span>
      <span>
        Calls <b data-testid="queue-calls">{q ? q.calls.waiting : "–"}</b>
      </span>
    </div>
  );
  if (rolledUp) {
    return (
      <aside class="summary rolled-up" aria-label="Communication Summary">
        {queues}
        <button onClick={() => setRolledUp(false)} aria-expanded="false">
          Open summary
        </button>
      </aside>
    );
  }
  return (
    <aside class="summary" aria-label="Communication Summary">
      <h2>
        Communication Summary {live ? "" : <span class="muted">(reconnecting…)</span>}
      </h2>
      <div class="summary-group">
        <h3>In Progress</h3>
        <span>
          Active <b data-testid="in-progress-active">{summary?.in_progress?.active ?? "–"}</b>
        </span>
        <span>
          On hold <b data-testid="in-progress-on-hold">{summary?.in_progress?.on_hold ?? "–"}</b>
        </span>
      </div>
      {queues}
      <div class="summary-group">
        <button onClick={() => next("chat")}>Next chat</button>
        <button onClick={() => next("call")}>Next call</button>
        <button onClick={() => next("message")}>Next message</button>
      </div>
      <button onClick={() => setRolledUp(true)} aria-expanded="true">
        Roll up
      </button>
    </aside>
  );
}
