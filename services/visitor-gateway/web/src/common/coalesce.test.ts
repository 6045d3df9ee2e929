import { describe, expect, it } from "vitest";
import { coalesced } from "./coalesce";

describe("coalesced re-reads", () => {
  it("a burst of calls while one runs makes exactly one more run", async () => {
    let runs = 0;
    let release: () => void = () => {};
    const read = coalesced(
      () =>
        new Promise<void>((resolve) => {
          runs++;
          release = resolve;
        }),
    );
    const first = read();
    void read();
    void read();
    void read();
    expect(runs).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    release();
    await first;
    expect(runs).toBe(2);
    void read();
    expect(runs).toBe(3);
    release();
  });

  it("a failed run does not stop later ones", async () => {
    let runs = 0;
    const read = coalesced(async () => {
      runs++;
      throw new Error("503");
    });
    await read();
    await read();
    expect(runs).toBe(2);
  });
});
