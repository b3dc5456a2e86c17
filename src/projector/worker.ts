import { UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type Db, isConnectionError } from "../db/client.js";
import { toError } from "../errors.js";
import type { ExecutionHooks, FollowUp } from "../execution/advance.js";
import { EVENTS_QUEUE, type EventJob } from "../ingest/queue.js";
import type { Logger } from "../log.js";
import { writeTogetherThisTurn } from "../redis.js";
import { createBatcher } from "../util/batcher.js";
import { STALL_RECOVERY, workerErrorLogger } from "../util/bullmq.js";
import { type ApplyOptions, type ApplyResult, applyBatch } from "./apply.js";
import { type Classified, classifyJob } from "./classify.js";
import type { ResourceChange } from "./evolve.js";
import { observeBatch, type ProjectorMetrics } from "./observe.js";

export type ProjectorDeps = {
  db: Db;
  connection: Redis;
  prefix: string;
  concurrency: number;
  batchSize: number;
  log: Logger;
  /** The batch transaction; replaceable so a test or a benchmark can observe batches. */
  apply?: typeof applyBatch;
  metrics?: ProjectorMetrics;
  /** Told of each change projected, after its commit; must return at once (Seam enrichment). */
  onProjected?: (change: ResourceChange) => void;
  /**
   * With SEAM_API_KEY: executions are advanced in the batch's transaction, and what they leave
   * to do is handed to `onFollowUps` after the commit (the Seam-call queue). If that fails, the
   * batch's jobs fail and are retried: their repeats advance the executions again.
   */
  executions?: ExecutionHooks;
  /** SEAM_WORKSPACE_ID: events of other workspaces are stored as `ignored`. */
  workspaceId?: string | undefined;
};

/**
 * True for an error Postgres raises for the statement's data, the same on every attempt:
 * SQLSTATE class 22 (data exception: a NUL in text, a date out of range) and 54 (program limit
 * exceeded: an index row too large). Told by the code, never the message. Retrying such an
 * event only rolls back each batch it lands in, twelve times over twenty minutes.
 */
const isDeterministicSqlError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|54)[0-9A-Z]{3}$/.test(code);
};

/**
 * Applies a batch; when the batch as a whole fails, applies each event alone so that one bad
 * event fails only its own job. A lost or refused connection fails the whole batch at once:
 * every job is retried later, instead of a transaction per event against a database that is
 * down (with 200 events a batch, that held jobs for tens of seconds in an outage drill).
 */
const applyIsolating = async (
  apply: typeof applyBatch,
  db: Db,
  classified: Classified[],
  options: ApplyOptions,
): Promise<{ results: (ApplyResult | Error)[]; followUps: FollowUp[] }> => {
  try {
    return await apply(db, classified, options);
  } catch (error) {
    if (classified.length === 1 || isConnectionError(error)) {
      const failure = toError(error);
      return { results: classified.map(() => failure), followUps: [] };
    }
    const alone = await Promise.all(
      classified.map((item) =>
        apply(db, [item], options).then(
          (batch) => batch,
          (failure: unknown) => ({ results: [toError(failure)], followUps: [] }),
        ),
      ),
    );
    return {
      results: alone.map((batch) => batch.results[0] as ApplyResult | Error),
      followUps: alone.flatMap((batch) => batch.followUps),
    };
  }
};

/**
 * The BullMQ worker. Each of `concurrency` job slots hands its job to a shared batcher, so jobs
 * that are active together are applied in one transaction (group commit); each job still gets
 * its own result: completed, failed for retry (a transient fault), or failed for good (poison,
 * via UnrecoverableError, so BullMQ does not spend its attempts on it).
 */
export const createProjector = (deps: ProjectorDeps) => {
  const batcher = createBatcher<EventJob, ApplyResult | Error>({
    maxSize: deps.batchSize,
    maxConcurrentFlushes: 2,
    flush: async (jobs) => {
      const classified = jobs.map((job) => classifyJob(job, { workspaceId: deps.workspaceId }));
      const applied = await applyIsolating(
        deps.apply ?? applyBatch,
        deps.db,
        classified,
        deps.executions ? { advance: deps.executions.advance } : {},
      );
      let results = applied.results;
      if (deps.executions && applied.followUps.length > 0) {
        try {
          await deps.executions.onFollowUps(applied.followUps);
        } catch (error) {
          const failure = toError(error);
          results = results.map(() => failure);
        }
      }
      // BullMQ completes (or fails) the batch's jobs in the promise continuations after this
      // returns: their scripts leave in one write.
      writeTogetherThisTurn(deps.connection);
      if (deps.metrics) observeBatch(deps.metrics, classified, results, Date.now());
      results.forEach((result, index) => {
        if (result instanceof Error || result.kind !== "conflict") return;
        // The body is not logged (it may name people); its hash tells the two apart.
        const record = classified[index]?.record;
        deps.log.warn(
          { eventId: record?.eventId, payloadSha256: record?.payloadSha256 },
          "event id already recorded with another body: delivery ignored",
        );
      });
      return results;
    },
  });
  const worker = new Worker<EventJob, ApplyResult["kind"]>(
    EVENTS_QUEUE,
    async (job) => {
      const result = await batcher.submit(job.data);
      if (result instanceof Error) {
        // Applied alone and refused for its data: poison now, not after every retry.
        if (isDeterministicSqlError(result)) {
          throw new UnrecoverableError(`poison event: ${result.message}`);
        }
        throw result;
      }
      // Poison is told by the event's outcome in Postgres (admin/dead-letters.ts), not by
      // this text, which is for the operator.
      if (result.kind === "poison") throw new UnrecoverableError(`poison event: ${result.error}`);
      if (result.kind === "projected") deps.onProjected?.(result.change);
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
    const poison = error instanceof UnrecoverableError;
    deps.log[poison ? "warn" : "error"](
      { jobId: job?.id, attempts: job?.attemptsMade, err: error },
      poison ? "poison event kept in failed set" : "projection failed, will retry",
    );
  });
  worker.on("error", workerErrorLogger(deps.log, "worker error"));
  return {
    worker,
    start: () => {
      void worker.run();
    },
    /** Stops taking jobs and waits for the jobs in hand to finish. */
    close: async () => {
      await worker.close();
      await batcher.drain();
    },
  };
};
