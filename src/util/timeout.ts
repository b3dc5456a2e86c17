/**
 * Settles as `promise` does, or rejects with `onTimeout()` after `ms`. The operation itself runs
 * on (a Redis command cannot be withdrawn once written); only the caller stops waiting for it.
 */
export const withTimeout = <T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
