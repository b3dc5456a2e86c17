import { createRepeatLimiter } from "./repeat-limit.js";

/**
 * What both BullMQ workers (the projector's and the Seam calls') set for a crash.
 *
 * A crashed worker's jobs come back only once their lock expires and a stalled check sees it:
 * with BullMQ's 30 s defaults that took about a minute, and every waiter on those jobs waited
 * with it. A job takes milliseconds and its lock is renewed by a timer, so 10 s is ample; a job
 * run twice is harmless (an event id is recorded once, a Seam delete of a deleted resource
 * counts as done).
 *
 * BullMQ fails a job for good at its second stall by default: a job that was in hand at two
 * crashes (a worker crash-looping, pods evicted twice in a row) ended in the failed set, though
 * re-running it is harmless. Ten leaves room for real crash loops while a job that itself kills
 * every worker still stops, in the failed set, after ten.
 */
export const STALL_RECOVERY = {
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 10,
} as const;

/** A BullMQ worker's `error` line (Redis down: one a second) is written at most this often. */
const WORKER_ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * The listener of a BullMQ worker's `error` event: logs `message` with the error, at most once
 * a minute, each line with the count of those held back since the last.
 */
export const workerErrorLogger = (
  log: { error: (fields: { err: Error; repeats: number }, message: string) => void },
  message: string,
) => {
  const limit = createRepeatLimiter({ intervalMs: WORKER_ERROR_LOG_INTERVAL_MS });
  return (error: Error) => limit((repeats) => log.error({ err: error, repeats }, message));
};
