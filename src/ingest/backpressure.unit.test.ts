import { describe, expect, it } from "vitest";
import { createQueueGate } from "./backpressure.js";

/** A depth source the test answers by hand, to control what the gate knows and when. */
const manualDepth = () => {
  const pending: ((depth: number) => void)[] = [];
  return {
    read: () => new Promise<number>((resolve) => pending.push(resolve)),
    answer: (depth: number) => pending.shift()?.(depth),
    get reads() {
      return pending.length;
    },
  };
};

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("createQueueGate", () => {
  it("admits up to the limit counting its own admissions before any read answers", () => {
    const depth = manualDepth();
    const gate = createQueueGate({ maxDepth: 3, readDepth: depth.read, now: () => 0 });
    expect([gate.admit(), gate.admit(), gate.admit()]).toEqual([
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    expect(gate.admit()).toEqual({ ok: false, depth: 3 });
    expect(depth.reads).toBe(1); // one read in flight at most
  });

  it("takes the depth read, and keeps counting what it admitted while the read ran", async () => {
    const depth = manualDepth();
    let clock = 0;
    const gate = createQueueGate({ maxDepth: 10, readDepth: depth.read, now: () => clock });
    // The read is sent before either event is enqueued, so neither is in its figure.
    gate.admit();
    gate.admit();
    depth.answer(7);
    await flush();
    // 7 read + 2 admitted while it ran = 9: one more fits.
    expect(gate.admit()).toEqual({ ok: true });
    expect(gate.admit()).toEqual({ ok: false, depth: 10 });
    expect(depth.reads).toBe(0); // the figure is fresh: no new read yet
    clock = 251;
    gate.admit();
    expect(depth.reads).toBe(1);
  });

  it("opens again once a read shows the queue drained", async () => {
    const depth = manualDepth();
    let clock = 0;
    const gate = createQueueGate({ maxDepth: 2, readDepth: depth.read, now: () => clock });
    gate.admit();
    gate.admit();
    expect(gate.admit().ok).toBe(false);
    depth.answer(2);
    await flush();
    expect(gate.admit().ok).toBe(false);
    clock = 1000;
    expect(gate.admit().ok).toBe(false); // starts a read, still judged on the old figure
    depth.answer(0);
    await flush();
    expect(gate.admit()).toEqual({ ok: true });
  });

  it("keeps the last figure when a read fails", async () => {
    let clock = 0;
    let fail = false;
    const gate = createQueueGate({
      maxDepth: 5,
      readDepth: () => (fail ? Promise.reject(new Error("down")) : Promise.resolve(5)),
      now: () => clock,
    });
    gate.admit(); // admitted during the first read: 5 read + 1 = 6
    await flush();
    expect(gate.admit()).toEqual({ ok: false, depth: 6 });
    fail = true;
    clock = 1000;
    gate.admit();
    await flush();
    expect(gate.admit()).toEqual({ ok: false, depth: 6 });
  });
});
