/**
 * Time as the waiters see it: a monotonic `now()` in milliseconds and one-shot timers. Injected,
 * so a test of a 30 s wait or of a retry pause advances a manual clock instead of sleeping.
 */
export type Clock = {
  now: () => number;
  setTimer: (callback: () => void, ms: number) => () => void;
};

/** setTimeout treats anything above 2^31-1 ms as 1 ms; "forever" must stay forever. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => {
    if (ms === Number.POSITIVE_INFINITY) return () => {};
    const timer = setTimeout(callback, Math.min(ms, MAX_TIMER_MS));
    return () => clearTimeout(timer);
  },
};

/** A clock that moves only when told to: `advance(ms)` fires every timer due by then, in order. */
export const createManualClock = () => {
  let time = 0;
  const timers = new Set<{ at: number; callback: () => void }>();
  return {
    now: () => time,
    setTimer: (callback: () => void, ms: number) => {
      if (ms === Number.POSITIVE_INFINITY) return () => {};
      const timer = { at: time + ms, callback };
      timers.add(timer);
      return () => void timers.delete(timer);
    },
    /** Timers armed and not yet fired or cleared. */
    get pending() {
      return timers.size;
    },
    advance: (ms: number) => {
      const until = time + ms;
      for (;;) {
        const due = [...timers].filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        timers.delete(due);
        time = due.at;
        due.callback();
      }
      time = until;
    },
  } satisfies Clock & Record<string, unknown>;
};
