import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { FollowUp } from "../execution/advance.js";
import type { CallTarget } from "../shared/resources.js";

/**
 * The Seam-call queue of executions (CONTRACT §8), apart from the events queue: a delete to
 * send, or, once an awaited deletion event is overdue, a check (one `get`). A job's id is its
 * call's, so queueing the same call twice queues it once: every advance re-queues what is
 * left to do, and nothing is lost if the process died before its jobs were added.
 */
export const SEAM_CALLS_QUEUE = "seam-calls";

export type CallJob = {
  action: "delete" | "check";
  identityId: string;
  executionId: string;
  type: CallTarget;
  id: string;
  /** The fallback round the job belongs to: a job of a round gone by finds nothing to do. */
  round: number;
  /** Times Seam answered 429 or 5xx to this job so far (its backoff). */
  retries?: number;
};

export type CallsQueue = Queue<CallJob>;

const callJobId = (job: CallJob) =>
  `${job.action}-${job.executionId}-${job.type}-${job.id}-${job.round}`;

export const createCallsQueue = (connection: Redis, prefix: string): CallsQueue =>
  new Queue<CallJob>(SEAM_CALLS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      // For faults of our own (Postgres down): Seam's 429 and 5xx are waited out by the job
      // itself, not counted here (executor/run-call.ts).
      attempts: 20,
      backoff: { type: "exponential", delay: 500, jitter: 0.5 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });

/** The jobs a committed advance leaves: its calls now, its checks at their deadlines. */
export const jobsOf = (followUps: FollowUp[], now: number) =>
  followUps.flatMap((followUp) => {
    const base = { identityId: followUp.identityId, executionId: followUp.executionId };
    return [
      ...followUp.calls.map((call) => {
        const data: CallJob = { action: "delete", ...base, ...call };
        return { name: "delete", data, opts: { jobId: callJobId(data) } };
      }),
      ...followUp.checks.map(({ deadlineAt, ...call }) => {
        const data: CallJob = { action: "check", ...base, ...call };
        const delay = Math.max(0, Date.parse(deadlineAt) - now);
        return { name: "check", data, opts: { jobId: callJobId(data), delay } };
      }),
    ];
  });
