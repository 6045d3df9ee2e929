import { describe, expect, it, vi } from "vitest";
import { describeRefusal } from "./api";
import { readClaims } from "./jwt";
import { LiveSocket, backoffSeconds, closeReason, type Link, type SocketLike } from "./socket";
import { duration, rejectionText } from "./words";

describe("refusals in plain words", () => {
  it("a validation error names the field and the problem", () => {
    const text = describeRefusal(422, { detail: [{ loc: ["body", "max_chats"], msg: "Input should be less than or equal to 50" }] });
    expect(text).toBe("Please check the form — max_chats: Input should be less than or equal to 50");
  });
  it.each([
    [403, { detail: "operators only" }, "You may not do that (operators only)."],
    [503, { detail: "temporarily unavailable" }, "The service is briefly unavailable; try again in a moment."],
    [409, { detail: "the chat has ended" }, "Too late: the chat has ended."],
  ])("%i", (status, body, text) => {
    expect(describeRefusal(status, body)).toBe(text);
  });
  it("a rejected command without a known name still reads", () => {
    expect(rejectionText("SomethingNew", "not_allowed_now")).toBe("Something New could not be done: Not allowed now.");
  });
});

describe("durations", () => {
  it.each([
    [0, "0:00"],
    [75, "1:15"],
    [3700, "1:01:40"],
    [-3, "0:00"],
  ])("%i s → %s", (seconds, text) => expect(duration(seconds)).toBe(text));
});

describe("the token's claims", () => {
  const token = (claims: object) => `x.${btoa(JSON.stringify(claims)).replace(/=+$/, "")}.y`;
  it("reads sub and site", () => {
    expect(readClaims(token({ sub: "ann", site: "acme", role: "admin" }))).toMatchObject({ sub: "ann", site: "acme" });
  });
  it("refuses what is not a token", () => {
    expect(readClaims("not a token")).toBeNull();
    expect(readClaims(token({ site: "acme" }))).toBeNull();
  });
});

class FakeSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  constructor(readonly protocols: string[]) {}
  close(): void {
    this.closed = true;
  }
  drop(code: number, reason = ""): void {
    this.onclose?.({ code, reason } as CloseEvent);
  }
}

describe("the live socket", () => {
  it("sends the token as the bearer subprotocol and passes frames on", () => {
    const made: FakeSocket[] = [];
    const frames: unknown[] = [];
    const socket = new LiveSocket("ws://x/v1/operator/ws", "tok", (f) => frames.push(f), () => {}, (_, p) => {
      const s = new FakeSocket(p);
      made.push(s);
      return s;
    });
    socket.start();
    expect(made[0].protocols).toEqual(["bearer", "tok"]);
    made[0].onmessage?.({ data: '{"type":"Connected"}' } as MessageEvent);
    made[0].onmessage?.({ data: "not json" } as MessageEvent);
    expect(frames).toEqual([{ type: "Connected" }]);
  });

  it("reconnects by itself after a lost connection, waiting longer each time", () => {
    vi.useFakeTimers();
    const made: FakeSocket[] = [];
    const links: Link[] = [];
    const socket = new LiveSocket("ws://x", "tok", () => {}, (l) => links.push(l), (_, p) => {
      const s = new FakeSocket(p);
      made.push(s);
      return s;
    });
    socket.start();
    made[0].drop(1006);
    expect(links.at(-1)).toEqual({ state: "down", reason: "the connection was lost", retryInSeconds: 0.5 });
    vi.advanceTimersByTime(500);
    expect(made).toHaveLength(2);
    made[1].drop(1013);
    expect(links.at(-1)).toMatchObject({ state: "down", retryInSeconds: 1 });
    vi.advanceTimersByTime(1000);
    made[2].onopen?.(new Event("open"));
    expect(links.at(-1)).toEqual({ state: "open" });
    socket.stop();
    vi.useRealTimers();
  });

  it("stops when the token is refused, and says why", () => {
    const made: FakeSocket[] = [];
    const links: Link[] = [];
    const socket = new LiveSocket("ws://x", "tok", () => {}, (l) => links.push(l), (_, p) => {
      const s = new FakeSocket(p);
      made.push(s);
      return s;
    });
    socket.start();
    made[0].drop(4401, "token expired");
    expect(links.at(-1)).toEqual({ state: "refused", reason: "your sign-in was refused: token expired" });
  });

  it("waits at most five seconds between attempts", () => {
    expect([0, 1, 2, 4, 20].map(backoffSeconds)).toEqual([0.5, 1, 2, 5, 5]);
    expect(closeReason(4429, "")).toContain("too many windows");
  });
});
