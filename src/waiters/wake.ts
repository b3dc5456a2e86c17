import type { Clock } from "./clock.js";

/**
 * Sleeps until the wake handed to `setWake` is called, `signal` aborts or `timeoutMs` passes;
 * then hands `setWake` undefined. What a waiter and a feed wait on: a timer and a callback,
 * never a read.
 */
export const sleepUntilWoken = (
  clock: Clock,
  signal: AbortSignal,
  timeoutMs: number,
  setWake: (wake: (() => void) | undefined) => void,
) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimer();
      signal.removeEventListener("abort", done);
      setWake(undefined);
      resolve();
    };
    const clearTimer = clock.setTimer(done, timeoutMs);
    signal.addEventListener("abort", done, { once: true });
    setWake(done);
  });
