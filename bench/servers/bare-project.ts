import { Worker } from "bullmq";
import postgres from "postgres";
import { EVENTS_QUEUE, type EventJob } from "../../src/ingest/queue.js";
import { createWorkerRedis, writeTogetherThisTurn } from "../../src/redis.js";
import { createBatcher } from "../../src/util/batcher.js";
import { FLOOR_TABLE } from "../lib/events.js";
import { env } from "./kit.js";

/**
 * The store floor of projection: what any worker that completes a job only once its event is
 * durable in Postgres must do, and nothing else. The same queue and BullMQ worker as the
 * service, the service's own batcher (jobs in hand flushed together, two flushes at a time),
 * and one autocommitted statement per batch that inserts each event's id and body into a table
 * keyed by the id (so a redelivery changes nothing), the batch's completions in one write as the
 * service's are (src/redis.ts). No parse, classification, evolve rules, row locks, readiness or
 * metrics: a ceiling of the durable part, which shows how much of the gap to the no-op worker is
 * storing the events and how much is the projection.
 */
const sql = postgres(env("DATABASE_URL"), { max: 4, onnotice: () => {} });
await sql.unsafe(FLOOR_TABLE);

const connection = createWorkerRedis(env("REDIS_URL"));
const batcher = createBatcher<EventJob, true>({
  maxSize: Number(env("WORKER_BATCH_SIZE")),
  maxConcurrentFlushes: 2,
  flush: async (jobs) => {
    await sql`
      insert into bench_floor_events (event_id, payload)
      select * from unnest(${jobs.map((job) => job.eventId)}::text[], ${jobs.map((job) => job.body)}::text[])
      on conflict (event_id) do nothing`;
    writeTogetherThisTurn(connection);
    return jobs.map(() => true);
  },
});
const worker = new Worker<EventJob>(EVENTS_QUEUE, (job) => batcher.submit(job.data), {
  connection,
  prefix: env("QUEUE_PREFIX"),
  concurrency: Number(env("WORKER_CONCURRENCY")),
});
worker.on("ready", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => {
  void Promise.allSettled([worker.close(), sql.end({ timeout: 1 })]).then(() => process.exit(0));
});
