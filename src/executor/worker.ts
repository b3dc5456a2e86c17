import { DelayedError, type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type Db, pipeline } from "../db/client.js";
import { toError } from "../errors.js";
import { type AdvanceOptions, advanceExecutions } from "../execution/advance.js";
import type { Logger } from "../log.js";
import { lockIdentities } from "../sql/lock-identities.js";
import { selectRunningExecutionIds } from "../sql/select-executions.js";
import { STALL_RECOVERY, workerErrorLogger } from "../util/bullmq.js";
import type { FollowUpHandler } from "./follow-up.js";
import { type CallJob, SEAM_CALLS_QUEUE } from "./queue.js";
import type { CallRunner } from "./run-call.js";

type CallWorkerDeps = {
  connection: Redis;
  prefix: string;
  /** SEAM_API_CONCURRENCY: Seam calls in flight at once in this process. */
  concurrency: number;
  runner: CallRunner;
  log: Logger;
};

type TimedJob = CallJob & { firstTriedAt?: number };

/**
 * The worker of the Seam-call queue: one job is one Seam call, so `concurrency` bounds the
 * calls in flight. A call Seam answers with 429 or 5xx goes back to the delayed set for its
 * backoff (never sooner than Retry-After) without holding a slot meanwhile.
 */
export const createCallWorker = (deps: CallWorkerDeps) => {
  const worker = new Worker<TimedJob>(
    SEAM_CALLS_QUEUE,
    async (job: Job<TimedJob>, token?: string) => {
      const firstTriedAt = job.data.firstTriedAt ?? Date.now();
      const result = await deps.runner.run(job.data, firstTriedAt);
      if (result.kind === "retry") {
        await job.updateData({ ...job.data, firstTriedAt, retries: (job.data.retries ?? 0) + 1 });
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      }
      return result.kind;
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency,
      autorun: false,
      ...STALL_RECOVERY,
    },
  );
  worker.on("failed", (job, error) => {
    if (error instanceof DelayedError) return;
    deps.log.error(
      { jobId: job?.id, attempts: job?.attemptsMade, err: error },
      "Seam call job failed",
    );
  });
  worker.on("error", workerErrorLogger(deps.log, "Seam call worker error"));
  return {
    start: () => {
      void worker.run();
    },
    close: () => worker.close(),
  };
};

/** Executions advanced per transaction by the start-up sweep. */
const SWEEP_CHUNK = 100;

/**
 * At start-up: every running execution is advanced once more and its calls queued again (a
 * call already queued is not queued twice). What a process that died had committed but not
 * yet queued is so picked up, and nothing is polled afterwards.
 */
export const resumeRunningExecutions = async (deps: {
  db: Db;
  advance: AdvanceOptions;
  followUp: FollowUpHandler;
  log: Logger;
}) => {
  const ids = (await selectRunningExecutionIds(deps.db)).map((row) => row.user_identity_id);
  for (let start = 0; start < ids.length; start += SWEEP_CHUNK) {
    const chunk = ids.slice(start, start + SWEEP_CHUNK);
    const followUps = await deps.db.begin(async (tx) => {
      // The lock is sent first (executed before advance starts), and its answer is not
      // awaited before advance's select, which Postgres runs after it, holding the locks.
      const [, advanced] = await pipeline([
        lockIdentities(tx, chunk).execute(),
        advanceExecutions(tx, chunk, deps.advance),
      ]);
      return advanced;
    });
    await deps.followUp(followUps);
  }
  if (ids.length > 0) deps.log.info({ executions: ids.length }, "running executions re-queued");
  return ids.length;
};

export const logSweepFailure = (log: Logger) => (error: unknown) =>
  log.error({ err: toError(error) }, "re-queueing running executions failed");
