// A WebSocket to the gateway that reconnects by itself (with a growing pause) and says why it
// is down. The token travels as the `bearer` subprotocol, never in the URL.

export type Frame = { type: string } & Record<string, unknown>;

export type Link =
  | { state: "connecting" }
  | { state: "open" }
  | { state: "down"; reason: string; retryInSeconds: number }
  | { state: "refused"; reason: string };

export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

const TOKEN_REFUSED = 4401;
const TOO_MANY_SOCKETS = 4429;

/** Pause before the n-th attempt in a row (0-based): 0.5 s doubling to at most 5 s. */
export function backoffSeconds(attempt: number): number {
  return Math.min(5, 0.5 * 2 ** attempt);
}

/** Why the socket closed, in plain words. */
export function closeReason(code: number, reason: string): string {
  switch (code) {
    case TOKEN_REFUSED:
      return `your sign-in was refused${reason ? `: ${reason}` : ""}`;
    case TOO_MANY_SOCKETS:
      return "too many windows are open for you: close one";
    case 1013:
      return "the service is busy or reconnecting to its message broker";
    case 4408:
      return "the connection was too slow";
    case 1006:
      return "the connection was lost";
    default:
      return reason || `the connection closed (code ${code})`;
  }
}

export class LiveSocket {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly onFrame: (frame: Frame) => void,
    private readonly onLink: (link: Link) => void,
    private readonly factory: SocketFactory = (u, p) => new WebSocket(u, p),
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, "closed by the page");
    this.socket = null;
  }

  private open(): void {
    this.onLink({ state: "connecting" });
    const socket = this.factory(this.url, ["bearer", this.token]);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.onLink({ state: "open" });
    };
    socket.onmessage = (event) => {
      try {
        this.onFrame(JSON.parse(String(event.data)) as Frame);
      } catch {
        // a frame that is not JSON is not ours to show
      }
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      const reason = closeReason(event.code, event.reason);
      if (event.code === TOKEN_REFUSED) {
        this.onLink({ state: "refused", reason });
        return;
      }
      const wait = backoffSeconds(this.attempt++);
      this.onLink({ state: "down", reason, retryInSeconds: wait });
      this.timer = setTimeout(() => this.open(), wait * 1000);
    };
  }
}

/** The socket URL for a path on the page's own origin (or the given base). */
export function socketUrl(base: string, path: string): string {
  const url = new URL(path, base || window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
