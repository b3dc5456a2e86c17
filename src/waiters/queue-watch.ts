import type { Clock } from "./clock.js";

export type QueueCounts = { waiting: number; failed: number };

type Listener = (counts: QueueCounts) => void;

/**
 * The events queue's `waiting` and `failed` counts for the deletions stream: one reading every
 * `intervalMs` for the whole process, only while a stream follows it; a listener hears the
 * counts when it subscribes (once read) and whenever they change. A failed reading is skipped.
 */
export const createQueueWatch = (deps: {
  read: () => Promise<QueueCounts>;
  clock: Clock;
  intervalMs: number;
}) => {
  const listeners = new Set<Listener>();
  let last: QueueCounts | undefined;
  let stop: (() => void) | undefined;
  const tick = async () => {
    stop = undefined;
    try {
      const counts = await deps.read();
      const changed =
        last === undefined || counts.waiting !== last.waiting || counts.failed !== last.failed;
      last = { waiting: counts.waiting, failed: counts.failed };
      if (changed) for (const listener of listeners) listener(last);
    } catch {
      // Redis slow or down: the counts shown stay the last read.
    }
    if (listeners.size > 0 && stop === undefined)
      stop = deps.clock.setTimer(() => void tick(), deps.intervalMs);
  };
  return {
    subscribe: (listener: Listener) => {
      listeners.add(listener);
      if (last !== undefined) listener(last);
      if (stop === undefined) void tick();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          stop?.();
          stop = undefined;
          last = undefined;
        }
      };
    },
  };
};

export type QueueWatch = ReturnType<typeof createQueueWatch>;
