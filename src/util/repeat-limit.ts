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
