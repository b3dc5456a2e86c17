import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { useHarness } from "../../test/helpers/harness.js";
import type { TestDatabase } from "../../test/helpers/postgres.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import type { EventsQueue } from "../ingest/queue.js";
import { createLogger } from "../log.js";
import { createRetention } from "./retention.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date("2026-12-01T12:00:00.000Z");

/** Retention against Postgres and Redis, with the clock injected: old rows go, new rows stay. */
describe("retention", () => {
  // A database and a queue of this file's own, and no service: retention is called directly.
  const harness = useHarness({}, false);
  let database: TestDatabase;
  let queue: EventsQueue;
  beforeAll(() => {
    ({ database } = harness());
    queue = harness().queue.queue;
  });

  /** An event row received `daysAgo` days before NOW; its id. */
  const insertEvent = async (daysAgo: number) => {
    const id = randomUUID();
    const receivedAt = new Date(NOW.getTime() - daysAgo * DAY_MS).toISOString();
    await database.sql`
      insert into events (event_id, event_type, workspace_id, occurred_at, received_at, source,
                          payload, payload_sha256, outcome)
      values (${id}, 'acs_user.created', ${randomUUID()}, ${receivedAt}, ${receivedAt}, 'webhook',
              '{}', 'x', 'ignored')`;
    return id;
  };
  const remaining = async (ids: string[]) =>
    (
      await database.sql<{ event_id: string }[]>`
        select event_id from events where event_id = any(${ids})`
    ).map((row) => row.event_id);

  const retention = (options: { batchSize: number; maxBatches: number; events?: number }) =>
    createRetention({
      db: database.db,
      queue,
      log: createLogger("silent"),
      eventsRetentionMs: (options.events ?? 90) * DAY_MS,
      deadLetterRetentionMs: 0,
      now: () => NOW,
      batchSize: options.batchSize,
      maxBatches: options.maxBatches,
    });

  it("deletes events received before the retention, in bounded batches, and keeps the rest", async () => {
    const resource = randomUUID();
    await database.sql`
      insert into resources (resource_type, resource_id, state) values ('phone', ${resource}, 'live')`;
    const old = [await insertEvent(91), await insertEvent(200), await insertEvent(400)];
    const recent = [await insertEvent(89), await insertEvent(1)];

    // Batches of two, one batch a round: a round removes two rows at most.
    const first = await retention({ batchSize: 2, maxBatches: 1 }).runOnce();
    expect(first).toMatchObject({ events: 2, eventBatches: 1 });
    expect(await remaining(old)).toHaveLength(1);

    const second = await retention({ batchSize: 2, maxBatches: 10 }).runOnce();
    expect(second).toMatchObject({ events: 1, eventBatches: 1 });
    expect(await remaining([...old, ...recent])).toEqual(recent);
    const [kept] = await database.sql`select 1 from resources where resource_id = ${resource}`;
    expect(kept).toBeDefined();
  });

  it("keeps every event with a retention of 0", async () => {
    const old = await insertEvent(10_000);
    const result = await retention({ batchSize: 10, maxBatches: 10, events: 0 }).runOnce();
    expect(result.events).toBe(0);
    expect(await remaining([old])).toEqual([old]);
  });

  it("trims dead letters that failed longer ago than the bound, and only those", async () => {
    const job = await queue.add("event", {
      body: "{}",
      eventId: randomUUID(),
      receivedAt: NOW.toISOString(),
      source: "replay",
    });
    await harness().queue.failJobs(1, "test poison");
    const trim = (deadLetterRetentionMs: number) =>
      createRetention({
        db: database.db,
        queue,
        log: createLogger("silent"),
        eventsRetentionMs: 0,
        deadLetterRetentionMs,
      }).runOnce();
    expect((await trim(DAY_MS)).deadLetters).toBe(0);
    expect(await queue.getFailedCount()).toBe(1);
    const failedAt = (await queue.getJob(job.id as string))?.finishedOn ?? 0;
    // BullMQ ages a dead letter by its own clock, which cannot be injected: real time has to
    // pass the 5 ms bound.
    await waitFor(() => Date.now() > failedAt + 5);
    expect((await trim(5)).deadLetters).toBe(1);
    expect(await queue.getFailedCount()).toBe(0);
  });
});
