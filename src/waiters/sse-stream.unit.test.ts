import { describe, expect, it } from "vitest";
import { newestOnly } from "./sse-stream.js";

describe("newestOnly", () => {
  it("sends one value at a time and, while a write is pending, only the newest", async () => {
    const sent: number[] = [];
    const releases: (() => void)[] = [];
    const push = newestOnly((value: number) => {
      sent.push(value);
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    push(1);
    // A client that does not read: the first write is pending, the next values pile up.
    for (let value = 2; value <= 1000; value += 1) push(value);
    expect(sent).toEqual([1]);
    releases.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([1, 1000]);
    releases.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(releases).toHaveLength(0);
    // Idle again: the next value is written at once.
    push(1001);
    expect(sent).toEqual([1, 1000, 1001]);
  });

  it("keeps sending after a write fails", async () => {
    const sent: number[] = [];
    let fail = true;
    const push = newestOnly(async (value: number) => {
      sent.push(value);
      if (fail) {
        fail = false;
        throw new Error("socket gone");
      }
    });
    push(1);
    await new Promise((resolve) => setImmediate(resolve));
    push(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([1, 2]);
  });
});
