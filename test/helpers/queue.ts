import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import {
  addEvents,
  createEventsQueue,
  EVENTS_QUEUE,
  type EventJob,
  type EventSource,
} from "../../src/ingest/queue.js";
import { type FixtureEvent, readFixture } from "../../src/replay/fixture.js";
import { REDIS_URL } from "./redis.js";
import { waitFor } from "./wait-for.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");

export const loadFixture = (name: string): Promise<FixtureEvent[]> =>
  readFixture(path.join(FIXTURES, name));

export const uniqueEventCount = (fixture: FixtureEvent[]): number =>
  new Set(fixture.map((event) => event.eventId)).size;

/**
 * A handle on a test's queue, to see what BullMQ did with each job and to enqueue events the
 * way ingress does (same job ids and retry options) without going through HTTP.
 */
export const openEventsQueue = (prefix: string, redisUrl = REDIS_URL) => {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // A test may stop its private Redis under this handle: ioredis reconnects by itself.
  connection.on("error", () => {});
  const queue = createEventsQueue(connection, prefix);
  queue.on("error", () => {});
  return {
    queue,
    counts: async () => {
      const counts = await queue.getJobCounts(
        "completed",
        "failed",
        "active",
        "waiting",
        "delayed",
      );
      return {
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        active: counts.active ?? 0,
        waiting: counts.waiting ?? 0,
        delayed: counts.delayed ?? 0,
      };
    },
    /** True once no job is waiting, active or delayed for a retry. */
    drained: async () => {
      const counts = await queue.getJobCounts("active", "waiting", "delayed");
      return (counts.active ?? 0) + (counts.waiting ?? 0) + (counts.delayed ?? 0) === 0;
    },
    /** Queues a fixture's events, a thousand per round trip, as if each had just arrived. */
    add: async (fixture: FixtureEvent[], source: EventSource = "replay") => {
      const receivedAt = new Date().toISOString();
      for (let start = 0; start < fixture.length; start += 1000) {
        const chunk = fixture.slice(start, start + 1000);
        await addEvents(
          queue,
          chunk.map(({ body, eventId }) => ({ body, eventId, receivedAt, source })),
        );
      }
    },
    /**
     * Plays the worker: fails the next `count` jobs for good (as a long outage does once
     * retries run out), each with `reason`, then stops.
     */
    failJobs: async (count: number, reason: string | ((job: Job<EventJob>) => string)) => {
      const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      let failed = 0;
      const standIn = new Worker<EventJob>(
        EVENTS_QUEUE,
        async (job) => {
          throw new UnrecoverableError(typeof reason === "string" ? reason : reason(job));
        },
        { connection: workerConnection, prefix },
      );
      standIn.on("failed", () => {
        failed += 1;
      });
      try {
        await waitFor(() => failed === count, { message: `${count} jobs failed` });
      } finally {
        await standIn.close();
        workerConnection.disconnect();
      }
    },
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
};
