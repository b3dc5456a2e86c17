import type { Db } from "../db/client.js";
import { toError } from "../errors.js";
import type { EventsQueue } from "../ingest/queue.js";
import type { Logger } from "../log.js";
import { deleteOldEvents } from "../sql/delete-old-events.js";
import { trimDeadLetters } from "./dead-letters.js";

export type RetentionDeps = {
  db: Db;
  queue: EventsQueue;
  log: Logger;
  /** EVENTS_RETENTION_DAYS as milliseconds; 0 keeps every event. */
  eventsRetentionMs: number;
  /** DEAD_LETTER_DAYS as milliseconds; 0 keeps every dead letter. */
  deadLetterRetentionMs: number;
  now?: () => Date;
  /** Rows (or failed jobs) a statement removes at most. */
  batchSize?: number;
  /** Batches one round removes at most; the rest waits for the next round. */
  maxBatches?: number;
  intervalMs?: number;
};

/**
 * The worker's retention: every `intervalMs` (5 minutes), events received more than
 * EVENTS_RETENTION_DAYS ago are deleted, by `received_at`, in statements of at most
 * `batchSize` rows, and dead letters that failed more than DEAD_LETTER_DAYS ago are
 * trimmed from the failed set. Several workers may run it at once: each batch skips the rows
 * another holds. A failed round is logged and tried again at the next.
 */
export const createRetention = (deps: RetentionDeps) => {
  const now = deps.now ?? (() => new Date());
  const batchSize = deps.batchSize ?? 2000;
  const maxBatches = deps.maxBatches ?? 50;
  const intervalMs = deps.intervalMs ?? 5 * 60 * 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  /** One round; resolves with what it removed. */
  const runOnce = async () => {
    const removed = { events: 0, eventBatches: 0, deadLetters: 0 };
    if (deps.eventsRetentionMs > 0) {
      const before = new Date(now().getTime() - deps.eventsRetentionMs);
      while (removed.eventBatches < maxBatches) {
        const [row] = await deleteOldEvents(deps.db, before, batchSize);
        const deleted = row?.deleted ?? 0;
        removed.eventBatches += 1;
        removed.events += deleted;
        if (deleted < batchSize) break;
      }
    }
    if (deps.deadLetterRetentionMs > 0) {
      // BullMQ compares with its own clock: the bound is an age, not a date.
      const trimmed = await trimDeadLetters(deps.queue, deps.deadLetterRetentionMs, batchSize);
      removed.deadLetters = trimmed.length;
    }
    if (removed.events > 0 || removed.deadLetters > 0) {
      deps.log.info(removed, "retention removed old events and dead letters");
    }
    return removed;
  };

  const tick = () => {
    if (running) return;
    running = runOnce()
      .catch((error: unknown) => deps.log.warn({ err: toError(error) }, "retention round failed"))
      .finally(() => {
        running = undefined;
      });
  };

  return {
    runOnce,
    /** A first round at once (a worker restarted often still prunes), then one an interval. */
    start: () => {
      if (deps.eventsRetentionMs === 0 && deps.deadLetterRetentionMs === 0) return;
      tick();
      timer = setInterval(tick, intervalMs);
      // Never what keeps the process alive.
      timer.unref();
    },
    /** Stops the timer and waits for a round in hand. */
    close: async () => {
      clearInterval(timer);
      await running;
    },
  };
};
