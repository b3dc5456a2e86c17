import type { Job } from "bullmq";
import type { Db } from "../db/client.js";
import type { EventJob, EventsQueue } from "../ingest/queue.js";
import { selectPoisonEventIds } from "../sql/select-poison-event-ids.js";

/** A failed job as an operator sees it in a list. */
export type DeadLetter = {
  job_id: string;
  event_id: string;
  event_type: string | null;
  source: EventJob["source"];
  received_at: string;
  failed_at: string | null;
  attempts: number;
  reason: string;
  /**
   * Poison payloads fail for good at once; anything else ran out of retries. Read from the
   * event log (`outcome = 'poison'`), where the projector records its verdict.
   */
  poison: boolean;
};

/** The same, with what it takes to judge it: the event as received and the last stack trace. */
export type DeadLetterDetail = DeadLetter & { event: unknown; stacktrace: string[] };

/** The event type, read leniently: a poison event may not be a JSON object at all. */
const eventTypeOf = (body: string): string | null => {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === "object" && value !== null && "event_type" in value) {
      return typeof value.event_type === "string" ? value.event_type : null;
    }
  } catch {
    // not JSON: a poison payload, shown as text in the detail
  }
  return null;
};

const toDeadLetter = (job: Job<EventJob>, poison: ReadonlySet<string>): DeadLetter => ({
  job_id: job.id ?? "",
  event_id: job.data.eventId,
  event_type: eventTypeOf(job.data.body),
  source: job.data.source,
  received_at: job.data.receivedAt,
  failed_at: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
  attempts: job.attemptsMade,
  reason: job.failedReason,
  poison: poison.has(job.data.eventId),
});

const parseOrText = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
};

/**
 * The failed set of the events queue, used as a dead-letter queue: jobs stay there (the queue
 * keeps failed jobs forever) until an operator re-drives or discards them. A re-driven event
 * goes through the same projection as any other, so re-driving one twice, or one that was
 * projected meanwhile, changes nothing.
 */
export const createDeadLetters = (queue: EventsQueue, db: Db) => {
  /** Which of the jobs' events the projector recorded as poison, in one statement. */
  const poisonOf = async (jobs: Job<EventJob>[]): Promise<ReadonlySet<string>> => {
    if (jobs.length === 0) return new Set();
    const rows = await selectPoisonEventIds(
      db,
      jobs.map((job) => job.data.eventId),
    );
    return new Set(rows.map((row) => row.event_id));
  };
  /** The job, only while it is in the failed set. */
  const failedJob = async (jobId: string) => {
    const job = await queue.getJob(jobId);
    if (job === undefined || (await job.getState()) !== "failed") return undefined;
    return job;
  };
  return {
    list: async (limit: number, offset: number) => {
      const [total, jobs] = await Promise.all([
        queue.getFailedCount(),
        queue.getFailed(offset, offset + limit - 1),
      ]);
      const failed = jobs.filter((job) => job !== undefined);
      const poison = await poisonOf(failed);
      return { total, items: failed.map((job) => toDeadLetter(job, poison)) };
    },
    inspect: async (jobId: string): Promise<DeadLetterDetail | undefined> => {
      const job = await failedJob(jobId);
      if (job === undefined) return undefined;
      return {
        ...toDeadLetter(job, await poisonOf([job])),
        event: parseOrText(job.data.body),
        stacktrace: job.stacktrace ?? [],
      };
    },
    /** Moves the job back to waiting with its attempts reset; false if it is not failed. */
    retry: async (jobId: string): Promise<boolean> => {
      const job = await failedJob(jobId);
      if (job === undefined) return false;
      await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    },
    /** Re-drives every failed job; returns how many there were. */
    retryAll: async (): Promise<number> => {
      const total = await queue.getFailedCount();
      // BullMQ moves them in pages of `count` until none is left.
      await queue.retryJobs({ state: "failed", count: 1000 });
      return total;
    },
    /** Drops the job for good; the event stays in Postgres' event log if it reached it. */
    discard: async (jobId: string): Promise<boolean> => {
      const job = await failedJob(jobId);
      if (job === undefined) return false;
      await job.remove();
      return true;
    },
  };
};

export type DeadLetters = ReturnType<typeof createDeadLetters>;

/**
 * Retention of the failed set: drops jobs that failed more than `olderThanMs` ago, at most
 * `limit` in one call (BullMQ's `clean`, by each job's `finishedOn`); returns their ids. An
 * operator has had that long to re-drive them; the events they carried, where the projector
 * recorded them, stay in Postgres under its own retention.
 */
export const trimDeadLetters = (queue: EventsQueue, olderThanMs: number, limit: number) =>
  queue.clean(olderThanMs, limit, "failed");
