import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../test/helpers/wait-for.js";
import type { Readiness } from "../shared/readiness.js";
import { createManualClock } from "./clock.js";
import { createWaitingEvents } from "./events.js";
import { WaiterRegistry } from "./registry.js";
import { followWait, openWait } from "./wait.js";

const log = pino({ level: "silent" });
const state = (id: string, ready: boolean): Readiness => ({
  user_identity_id: id,
  ready,
  blockers: ready ? [] : [{ type: "phone", id: "00000000-0000-4000-8000-000000000001" }],
  deletion: {
    status: ready ? "ready" : "pending",
    requested_at: "2026-01-01T00:00:00.000Z",
    ready_at: null,
    execution: null,
  },
});

/** A read function that records its calls and answers from a table the test controls. */
const recordingRead = () => {
  const calls: string[][] = [];
  const table = new Map<string, boolean>();
  let gate: Promise<void> = Promise.resolve();
  return {
    calls,
    table,
    hold: () => {
      let open = () => {};
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      return open;
    },
    read: async (ids: string[]) => {
      calls.push([...ids].sort());
      // The snapshot is taken when the statement starts, like Postgres does.
      const snapshot = new Map(ids.map((id) => [id, state(id, table.get(id) ?? false)]));
      await gate;
      return snapshot;
    },
  };
};

const never = new AbortController().signal;
const until = (check: () => boolean) => waitFor(check, { intervalMs: 5 });

describe("WaiterRegistry", () => {
  it("reports a wake with the identities woken and the seconds since their notification", async () => {
    const reads = recordingRead();
    const clock = createManualClock();
    const events = createWaitingEvents();
    const registry = new WaiterRegistry({ read: reads.read, log, clock, events });
    const waiter = registry.register("a");
    const open = reads.hold();
    const woken = new Promise((resolve) => events.once("wake", resolve));
    registry.notify("a");
    await until(() => reads.calls.length === 1);
    clock.advance(250);
    open();
    expect(await woken).toEqual({ identityIds: ["a"], seconds: 0.25 });
    expect((await waiter.next(never, 0))?.user_identity_id).toBe("a");
  });

  it("counts a subscriber that throws on a wake as its own fault, not as a failed read", async () => {
    const reads = recordingRead();
    const events = createWaitingEvents();
    events.on("wake", () => {
      throw new Error("a broken metrics subscriber");
    });
    const failedReads: unknown[] = [];
    events.on("wake:error", (event) => failedReads.push(event));
    const registry = new WaiterRegistry({ read: reads.read, log, events });
    const waiter = registry.register("a");
    reads.table.set("a", true);
    registry.notify("a");
    expect((await waiter.next(never, Number.POSITIVE_INFINITY))?.ready).toBe(true);
    // A later notification is still served: the loop did not end, nor read "a" again meanwhile.
    const sentinel = registry.register("sentinel");
    registry.notify("sentinel");
    await sentinel.next(never, Number.POSITIVE_INFINITY);
    expect(reads.calls).toEqual([["a"], ["sentinel"]]);
    expect(failedReads).toEqual([]);
  });

  it("reads nothing for a notification nobody waits for", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log });
    registry.notify("a");
    registry.recheckAll();
    // Reads run in order: had "a" been read, it would come before (or with) the sentinel's.
    const sentinel = registry.register("sentinel");
    registry.notify("sentinel");
    await sentinel.next(never, Number.POSITIVE_INFINITY);
    expect(reads.calls).toEqual([["sentinel"]]);
  });

  it("wakes every waiter of an identity with one read, and notifications of one tick share it", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log });
    const a = [registry.register("a"), registry.register("a"), registry.register("a")];
    const b = registry.register("b");
    registry.register("c");
    reads.table.set("a", true);
    registry.notify("a");
    registry.notify("a");
    registry.notify("b");
    const woken = await Promise.all([...a, b].map((waiter) => waiter.next(never, 1000)));
    expect(reads.calls).toEqual([["a", "b"]]);
    expect(woken.map((r) => r?.ready)).toEqual([true, true, true, false]);
  });

  it("reads again when notified during a read: a change committed meanwhile is not missed", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log });
    const waiter = registry.register("a");
    const open = reads.hold();
    registry.notify("a");
    await until(() => reads.calls.length === 1);
    reads.table.set("a", true);
    registry.notify("a");
    open();
    await until(() => reads.calls.length === 2);
    const seen = await waiter.next(never, 1000);
    expect(seen?.ready).toBe(true);
  });

  it("never hands a waiter a read that started before it registered: a ready first read stands", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log });
    const earlier = registry.register("a");
    const open = reads.hold();
    registry.notify("a");
    // A wake-up read for the earlier waiter is under way, its snapshot not ready ...
    await until(() => reads.calls.length === 1);
    reads.table.set("a", true);
    // ... when a long-poll opens; its own first read sees the deletion ready.
    const opened = await openWait(
      { registry, readOne: async (id) => state(id, reads.table.get(id) ?? false) },
      "a",
    );
    expect(opened?.current.ready).toBe(true);
    open();
    // The earlier waiter is told of the read it was waiting for (delivered to every waiter of
    // "a" at once); the long-poll, followed after that delivery, answers ready.
    expect((await earlier.next(never, 1000))?.ready).toBe(false);
    const answer = await followWait(opened as NonNullable<typeof opened>, {
      signal: never,
      timeoutMs: 1000,
    });
    expect(answer.ready).toBe(true);
  });

  it("re-reads every registered identity after a reconnect", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log });
    registry.register("a");
    registry.register("b").release();
    registry.register("c");
    registry.recheckAll();
    await until(() => reads.calls.length === 1);
    expect(reads.calls).toEqual([["a", "c"]]);
  });

  it("retries a failed wake-up read after its pause instead of dropping it", async () => {
    let failures = 1;
    const calls: string[][] = [];
    const clock = createManualClock();
    const events = createWaitingEvents();
    const failed = new Promise((resolve) => events.once("wake:error", resolve));
    const registry = new WaiterRegistry({
      log,
      clock,
      events,
      retryDelayMs: 500,
      read: async (ids) => {
        calls.push(ids);
        if (failures-- > 0) throw new Error("connection lost");
        return new Map(ids.map((id) => [id, state(id, true)]));
      },
    });
    const waiter = registry.register("a");
    registry.notify("a");
    const answer = waiter.next(never, Number.POSITIVE_INFINITY);
    expect(await failed).toMatchObject({
      identityIds: ["a"],
      error: { message: "connection lost" },
    });
    await until(() => clock.pending === 1);
    clock.advance(499);
    expect(calls).toEqual([["a"]]);
    clock.advance(1);
    expect((await answer)?.ready).toBe(true);
    expect(calls).toEqual([["a"], ["a"]]);
  });

  it("times out when its time is up and not before, honours an abort, and leaves nothing behind on release", async () => {
    const reads = recordingRead();
    const clock = createManualClock();
    const registry = new WaiterRegistry({ read: reads.read, log, clock });
    const waiter = registry.register("a");
    let timedOut = false;
    const timeout = waiter.next(never, 30_000).then((readiness) => {
      timedOut = true;
      return readiness;
    });
    clock.advance(29_999);
    await Promise.resolve();
    expect(timedOut).toBe(false);
    expect(clock.pending).toBe(1);
    clock.advance(1);
    expect(await timeout).toBeUndefined();
    expect(clock.pending).toBe(0);
    const abort = new AbortController();
    const pending = waiter.next(abort.signal, 10_000);
    abort.abort();
    expect(await pending).toBeUndefined();
    expect(clock.pending).toBe(0);
    waiter.release();
    waiter.release();
    expect(registry.size).toBe(0);
    registry.notify("a");
    const sentinel = registry.register("sentinel");
    registry.notify("sentinel");
    await sentinel.next(never, Number.POSITIVE_INFINITY);
    expect(reads.calls).toEqual([["sentinel"]]);
  });

  it("answers every waiter with its current state at close, and new waiters at once", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log });
    const waiters = [registry.register("a"), registry.register("b")];
    const answers = waiters.map((waiter) => waiter.next(never, 10_000));
    await registry.close();
    expect((await Promise.all(answers)).map((r) => r?.user_identity_id)).toEqual(["a", "b"]);
    expect(waiters.every((waiter) => waiter.ended)).toBe(true);
    const late = registry.register("c");
    expect(late.ended).toBe(true);
    expect(await late.next(never, 10_000)).toBeUndefined();
  });
});

describe("WaiterRegistry, followers of every deletion (watchAll)", () => {
  it("reads every notified identity for a feed, and tells it to resync after a reconnect", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({ read: reads.read, log, clock: createManualClock() });
    registry.notify("x"); // nobody follows yet: nothing read
    expect(reads.calls).toEqual([]);
    const feed = registry.watchAll("token");
    expect(registry.size).toBe(1);
    reads.table.set("b", true);
    registry.notify("a");
    registry.notify("b");
    await until(() => reads.calls.length === 1);
    expect(reads.calls[0]).toEqual(["a", "b"]);
    const batch = await feed.next(never, 1000);
    expect(batch?.resync).toBe(false);
    expect(batch?.items.map((r) => [r.user_identity_id, r.ready])).toEqual([
      ["a", false],
      ["b", true],
    ]);
    // The listener reconnected: notifications sent meanwhile are lost, so the client re-lists.
    registry.recheckAll();
    expect(await feed.next(never, 1000)).toEqual({ resync: true, items: [] });
    feed.release();
    expect(registry.size).toBe(0);
    registry.notify("c");
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads.calls).toHaveLength(1);
  });

  it("counts feeds under the limits, and ends them at close", async () => {
    const reads = recordingRead();
    const registry = new WaiterRegistry({
      read: reads.read,
      log,
      clock: createManualClock(),
      limits: { total: 2, perOwner: 1 },
    });
    const feed = registry.watchAll("t1");
    expect(() => registry.watchAll("t1")).toThrow(/this token holds as many waiters/);
    registry.register("a", "t2");
    expect(() => registry.watchAll("t3")).toThrow(/this process holds as many waiters/);
    await registry.close();
    expect(feed.ended).toBe(true);
  });
});
