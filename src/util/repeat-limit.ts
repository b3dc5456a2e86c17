/**
 * Lets the first of a run of repeated log lines through, then at most one an interval, which
 * carries how many were held back since the last one: with Redis down, BullMQ's worker emits
 * `error` about once a second (673 lines in 11 minutes, seen in an outage drill), which buried everything else.
 */
export const createRepeatLimiter = (options: { intervalMs: number; now?: () => number }) => {
  const now = options.now ?? Date.now;
  let lastAt: number | undefined;
  let held = 0;
  /** Calls `write` with the number held back since the last line, or not at all. */
  return (write: (repeats: number) => void): void => {
    const at = now();
    if (lastAt !== undefined && at - lastAt < options.intervalMs) {
      held += 1;
      return;
    }
    const repeats = held;
    lastAt = at;
    held = 0;
    write(repeats);
  };
};

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
