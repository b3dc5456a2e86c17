/** Thrown by withTimeout when the promise has not settled in time. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * `promise`, or a TimeoutError after `ms`: for a call into a dependency that may hang (a Redis
 * stopped mid-connection answers nothing, ever) where the caller must answer in time. The
 * promise itself goes on; its outcome is then ignored.
 */
export const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
};
