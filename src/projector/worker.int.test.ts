import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createHarness } from "../../test/helpers/harness.js";
import { createTestDatabase, failDeletionWrite } from "../../test/helpers/postgres.js";
import { deletionEvent, replayJob } from "../../test/helpers/readiness.js";
import {
  dropPrefix,
  errorLinesWhileRedisIsDown,
  REDIS_URL,
  recordWrites,
  testPrefix,
} from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { addEvents, EVENTS_QUEUE, type EventJob, jobIdFor } from "../ingest/queue.js";
import { createLogger } from "../log.js";
import { createProducerRedis, createWorkerRedis } from "../redis.js";
import { applyBatch } from "./apply.js";
import { createProjector } from "./worker.js";

/**
 * How the worker handles a failed batch, against Postgres and Redis, with Postgres itself made
 * to fail one event's write: a lost connection fails the whole batch at once (every job retried
 * later), a failed statement is retried event by event so that only the event at fault fails.
 * Jobs get one attempt here, so each outcome stays where it is for the test to read.
 */
describe("projector worker, failed batches", () => {
  const EVENTS = 20;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Runs EVENTS phone deletions, the last one failing as told; returns the batches applied. */
  const run = async (how: "raise" | "terminate") => {
    const phones = Array.from({ length: EVENTS }, () => randomUUID());
    const doomed = phones.at(-1) as string;
    // A database and pool of its own: after a backend ended itself, one later transaction on
    // the same pool was seen to fail with that backend's "terminating connection" error.
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    cleanups.push(await failDeletionWrite(database.sql, doomed, how));
    const prefix = testPrefix();
    const producer = createProducerRedis(REDIS_URL);
    const queue = new Queue<EventJob>(EVENTS_QUEUE, {
      connection: producer,
      prefix,
      defaultJobOptions: { attempts: 1 },
    });
    const batches: string[][] = [];
    const projector = createProjector({
      db: database.db,
      connection: createWorkerRedis(REDIS_URL),
      prefix,
      concurrency: EVENTS,
      batchSize: EVENTS,
      log: createLogger("silent"),
      // The real transaction, counted.
      apply: (db, batch) => {
        batches.push(batch.map((item) => item.record.eventId));
        return applyBatch(db, batch);
      },
    });
    cleanups.push(async () => {
      await projector.close();
      await queue.close();
      producer.disconnect();
      await dropPrefix(prefix);
    });
    const events = phones.map((phone) => deletionEvent("phone", phone));
    await addEvents(queue, events.map(replayJob));
    projector.start();
    const doomedId = String(events.at(-1)?.event_id);
    /** The first batch that held the doomed event: what the failure concerned. */
    const doomedBatch = () => batches.find((batch) => batch.includes(doomedId)) ?? [];
    return { queue, doomedBatch };
  };

  /** Waits until every job has its outcome; there are no retries to wait for. */
  const settled = (queue: Queue<EventJob>) =>
    waitFor(
      async () => {
        const { completed = 0, failed = 0 } = await queue.getJobCounts("completed", "failed");
        return completed + failed === EVENTS;
      },
      { message: "every job completed or failed" },
    );

  it("fails every job of the batch at once when the connection is lost", async () => {
    const { queue, doomedBatch } = await run("terminate");
    await settled(queue);
    // Batched with others (or this would show nothing), and all of them failed with it:
    // none was tried again alone, which would have completed it.
    const batch = doomedBatch();
    expect(batch.length).toBeGreaterThan(1);
    expect(await queue.getJobCounts("completed", "failed")).toEqual({
      completed: EVENTS - batch.length,
      failed: batch.length,
    });
  });

  it("retries a batch event by event when a statement fails, so only the event at fault fails", async () => {
    const { queue, doomedBatch } = await run("raise");
    await settled(queue);
    expect(doomedBatch().length).toBeGreaterThan(1);
    expect(await queue.getJobCounts("completed", "failed")).toEqual({
      completed: EVENTS - 1,
      failed: 1,
    });
  });
});

/** Issue 14 item 11: with Redis down, BullMQ's worker emits `error` about once a second. */
describe("projector worker, Redis unreachable", () => {
  it("writes the worker error line once, not once per reconnect attempt", async () => {
    const database = await createTestDatabase();
    try {
      const lines = await errorLinesWhileRedisIsDown("worker error", ({ connection, log }) => {
        const projector = createProjector({
          db: database.db,
          connection,
          prefix: testPrefix(),
          concurrency: 1,
          batchSize: 1,
          log,
        });
        projector.start();
        return { close: () => Promise.race([projector.close(), projector.worker.close(true)]) };
      });
      expect(lines).toBe(1);
    } finally {
      await database.drop();
    }
  });
});

/** Issue 14 item 4: what Postgres refuses for its data fails the same on every attempt. */
describe("projector worker, an event Postgres refuses", () => {
  it("is poison on its first attempt, not retried (SQLSTATE class 22)", async () => {
    const harness = await createHarness();
    const { database, prefix } = harness;
    // The service's own queue options: 12 attempts with backoff.
    const queue = harness.queue.queue;
    const projector = createProjector({
      db: database.db,
      connection: createWorkerRedis(REDIS_URL),
      prefix,
      concurrency: 4,
      batchSize: 4,
      log: createLogger("silent"),
    });
    projector.start();
    try {
      // Past ingress (queued as a replay would be): a NUL Postgres refuses (SQLSTATE 22P05 in
      // the record's json parameter, 22021 as UTF-8 text: class 22 either way),
      // batched with sound events, which are projected all the same.
      const sound = [deletionEvent("phone", randomUUID()), deletionEvent("phone", randomUUID())];
      const eventId = `nul\u0000${randomUUID()}`;
      const events = [...sound, { ...deletionEvent("phone", randomUUID()), event_id: eventId }];
      const jobs = events.map(replayJob);
      await addEvents(queue, jobs);
      const nulJob = jobIdFor(eventId, jobs[2]?.body ?? "");
      await waitFor(async () => (await queue.getJobState(nulJob)) === "failed", {
        message: "the job failed for good",
      });
      expect((await queue.getJob(nulJob))?.attemptsMade).toBe(1);
      await waitFor(async () => (await queue.getJobCounts("completed")).completed === 2);
    } finally {
      await projector.close();
      await harness.close();
    }
  });
});

/** The completions of a batch, BullMQ's scripts, leave in one write (src/redis.ts). */
describe("projector worker, a batch's completions", () => {
  it("writes them to Redis together, with the batch's other commands", async () => {
    const harness = await createHarness();
    const connection = createWorkerRedis(REDIS_URL);
    let stopRecording: (() => number[]) | undefined;
    let batchSize = 0;
    const projector = createProjector({
      db: harness.database.db,
      connection,
      prefix: harness.prefix,
      concurrency: 20,
      batchSize: 20,
      log: createLogger("silent"),
      apply: async (db, batch) => {
        const applied = await applyBatch(db, batch);
        // The first batch of several: its completions are written once this returns.
        if (stopRecording === undefined && batch.length > 1) {
          batchSize = batch.length;
          stopRecording = recordWrites(connection);
        }
        return applied;
      },
    });
    try {
      const events = Array.from({ length: 20 }, () => deletionEvent("phone", randomUUID()));
      await addEvents(harness.queue.queue, events.map(replayJob));
      projector.start();
      await waitFor(
        async () => (await harness.queue.queue.getJobCounts("completed")).completed === 20,
        { message: "every job completed" },
      );
      const writes = stopRecording?.() ?? [];
      expect(batchSize).toBeGreaterThan(1);
      // One write carried every completion of the batch, and whatever was sent with them; a
      // fetch that left just before them is a write of its own, so not necessarily the first.
      expect(Math.max(0, ...writes)).toBeGreaterThanOrEqual(batchSize);
    } finally {
      stopRecording?.();
      await projector.close();
      connection.disconnect();
      await harness.close();
    }
  });
});
