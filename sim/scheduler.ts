/**
 * The simulator's timers and in-flight work in one place, so that `settled()` knows when nothing
 * is left to happen and `close()` leaves no timer behind.
 */
export type Scheduler = {
  /** Runs `task` after `ms`; it counts as pending until it has run (and its promise settled). */
  after: (ms: number, task: () => void | Promise<void>) => void;
  /** Resolves once nothing is pending (at once when nothing is). */
  settled: () => Promise<void>;
  readonly closed: boolean;
  /** Aborted on close: in-flight requests listen to it. */
  readonly signal: AbortSignal;
  /** Clears every timer; pending work is abandoned and `settled()` waiters are released. */
  close: () => void;
};

export const createScheduler = (onError: (error: unknown) => void): Scheduler => {
  const timers = new Set<NodeJS.Timeout>();
  let running = 0;
  let waiters: (() => void)[] = [];
  let closed = false;
  const abort = new AbortController();

  const release = () => {
    if (timers.size > 0 || running > 0) return;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };

  return {
    after: (ms, task) => {
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        running += 1;
        // A task schedules its follow-ups before it ends, so pending never drops to zero between.
        void Promise.resolve()
          .then(task)
          .catch(onError)
          .finally(() => {
            // After close() the count was reset: a task still finishing must not go below zero.
            running = Math.max(0, running - 1);
            release();
          });
      }, ms);
      timers.add(timer);
    },
    settled: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        release();
      }),
    get closed() {
      return closed;
    },
    signal: abort.signal,
    close: () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      abort.abort();
      running = 0;
      release();
    },
  };
};
