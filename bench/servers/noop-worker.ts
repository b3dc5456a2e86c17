import { Worker } from "bullmq";
import { EVENTS_QUEUE } from "../../src/ingest/queue.js";
import { createWorkerRedis, writeTogetherThisTurn } from "../../src/redis.js";

/**
 * The projection ceiling: the same queue drained by a BullMQ worker whose processor does
 * nothing, at the concurrency the bench gives it (bench/sections/projection.ts says why). What
 * seam-projector adds beyond this is the projection. With WRITE_TOGETHER=1, the completions of
 * one turn of the event loop leave in one write, as the service's batches do (src/redis.ts):
 * the bench tries both and keeps the faster.
 */
const connection = createWorkerRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const together = process.env.WRITE_TOGETHER === "1";
const processor = async () => {
  if (together) writeTogetherThisTurn(connection);
  return "noop";
};
const worker = new Worker(EVENTS_QUEUE, processor, {
  connection,
  prefix: process.env.QUEUE_PREFIX ?? "bench",
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 50),
  // No removeOnComplete here: the jobs carry the service's own (ingest/queue.ts), and BullMQ
  // lets a job's option win over its worker's, so completions cost Redis what they cost ours.
});
worker.on("ready", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
