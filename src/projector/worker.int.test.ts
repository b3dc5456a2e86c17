import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { deletionEvent } from "../../test/helpers/readiness.js";
import { dropPrefix, REDIS_URL, testPrefix } from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import type { Db } from "../db/client.js";
import { addEvents, createEventsQueue } from "../ingest/queue.js";
import { createLogger } from "../log.js";
import { createProducerRedis, createWorkerRedis } from "../redis.js";
import type { ApplyResult } from "./apply.js";
import type { Classified } from "./classify.js";
import { createProjector } from "./worker.js";

/**
 * The worker's handling of a failed batch, with the transaction replaced by a stand-in that
 * fails as told (the real one is covered in apply.int.test.ts and the drills): a lost
 * connection fails the batch as a whole, a statement error is retried event by event.
 */
describe("projector worker, failed batches", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const EVENTS = 20;

  const run = async (fail: (batch: Classified[]) => Error | undefined) => {
    const prefix = testPrefix();
    const producer = createProducerRedis(REDIS_URL);
    const queue = createEventsQueue(producer, prefix);
    const batches: number[] = [];
    const projector = createProjector({
      db: {} as Db,
      connection: createWorkerRedis(REDIS_URL),
      prefix,
      concurrency: EVENTS,
      batchSize: EVENTS,
      log: createLogger("silent"),
      apply: async (_db, batch) => {
        batches.push(batch.length);
        // As long as a transaction takes: the jobs fetched meanwhile make the next batch.
        await new Promise((resolve) => setTimeout(resolve, 20));
        const error = fail(batch);
        if (error) throw error;
        return batch.map((): ApplyResult => ({ kind: "projected" }));
      },
    });
    cleanups.push(async () => {
      await projector.close();
      await queue.close();
      producer.disconnect();
      await dropPrefix(prefix);
    });
    await addEvents(
      queue,
      Array.from({ length: EVENTS }, () => {
        const event = deletionEvent("phone", randomUUID());
        return {
          body: JSON.stringify(event),
          eventId: String(event.event_id),
          receivedAt: new Date().toISOString(),
          source: "replay" as const,
        };
      }),
    );
    projector.start();
    return { queue, batches };
  };

  it("fails every job of a batch at once when the connection is lost, for a later retry", async () => {
    const { queue, batches } = await run(() =>
      Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" }),
    );
    // Each job failed once and waits for its retry (attempts with backoff).
    await waitFor(async () => (await queue.getJobCounts("delayed")).delayed === EVENTS, {
      message: "every job failed once and waits for its retry",
    });
    // Each event was in exactly one transaction: none was tried again alone (batches of more
    // than one were formed, or this would show nothing).
    expect(batches.some((size) => size > 1)).toBe(true);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(EVENTS);
  });

  it("retries a batch event by event when a statement fails, so only the bad event fails", async () => {
    const { queue, batches } = await run((batch) =>
      batch.length > 1
        ? Object.assign(new Error("unique violation"), { code: "23505" })
        : undefined,
    );
    await waitFor(async () => (await queue.getJobCounts("completed")).completed === EVENTS, {
      message: "every job completed after its batch was split",
    });
    expect(batches.filter((size) => size === 1)).toHaveLength(EVENTS);
  });
});
