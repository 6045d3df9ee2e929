// Server-Sent Events read with fetch (EventSource cannot send the bearer token), reconnecting
// by itself after the stream ends or fails.

import { createParser } from "eventsource-parser";
import { backoffSeconds } from "./socket";

export interface StreamHandlers {
  onEvent: (event: string, data: string) => void;
  onLink: (up: boolean, reason?: string) => void;
}

export function followStream(url: string, token: string, handlers: StreamHandlers): () => void {
  const abort = new AbortController();
  let attempt = 0;
  let retryMs: number | null = null;

  async function once(): Promise<void> {
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
      signal: abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    handlers.onLink(true);
    attempt = 0;
    const parser = createParser({
      onEvent: (message) => handlers.onEvent(message.event ?? "message", message.data),
      onRetry: (ms) => {
        retryMs = ms;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      let reason = "the live summary stream ended";
      try {
        await once();
      } catch (error) {
        if (abort.signal.aborted) return;
        reason = `the live summary stream failed (${String(error)})`;
        handlers.onLink(false, reason);
      }
      const wait = retryMs !== null && attempt === 0 ? retryMs : backoffSeconds(attempt) * 1000;
      attempt++;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  void loop();
  return () => abort.abort();
}
