/**
 * Group commit: items submitted while a flush is running wait and go out together in the next
 * flush, so concurrent callers share one round trip (one `addBulk`, one transaction) instead of
 * paying one each. Under no load a lone item is flushed on the next turn of the event loop.
 *
 * `flush` returns one result per item, in order; a thrown error fails every item of that flush.
 */
export type Batcher<T, R> = {
  submit: (item: T) => Promise<R>;
  /** Resolves once nothing is pending or in flight. */
  drain: () => Promise<void>;
};

type Pending<T, R> = { item: T; resolve: (value: R) => void; reject: (error: unknown) => void };

export const createBatcher = <T, R>(options: {
  maxSize: number;
  maxConcurrentFlushes?: number;
  flush: (items: T[]) => Promise<R[]>;
}): Batcher<T, R> => {
  const maxConcurrent = options.maxConcurrentFlushes ?? 1;
  let waiting: Pending<T, R>[] = [];
  let inFlight = 0;
  let scheduled = false;
  let idle: (() => void)[] = [];

  const settleIdle = () => {
    if (inFlight === 0 && waiting.length === 0) {
      for (const resolve of idle) resolve();
      idle = [];
    }
  };

  const runOne = async (batch: Pending<T, R>[]) => {
    inFlight += 1;
    try {
      const results = await options.flush(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch flush returned ${results.length} results for ${batch.length} items`);
      }
      batch.forEach((p, i) => {
        p.resolve(results[i] as R);
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      inFlight -= 1;
      pump();
      settleIdle();
    }
  };

  const pump = () => {
    while (waiting.length > 0 && inFlight < maxConcurrent) {
      const batch = waiting.slice(0, options.maxSize);
      waiting = waiting.slice(batch.length);
      void runOne(batch);
    }
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // setImmediate lets every request that arrived in this turn join the same batch.
    setImmediate(() => {
      scheduled = false;
      pump();
    });
  };

  return {
    submit: (item) =>
      new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (waiting.length >= options.maxSize) pump();
        else schedule();
      }),
    drain: () =>
      inFlight === 0 && waiting.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => idle.push(resolve)),
  };
};
