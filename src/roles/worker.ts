import { createRetention } from "../admin/retention.js";
import type { Config } from "../config.js";
import { createFollowUp } from "../executor/follow-up.js";
import { createCallRunner } from "../executor/run-call.js";
import { createCallWorker, logSweepFailure, resumeRunningExecutions } from "../executor/worker.js";
import type { Logger } from "../log.js";
import { createEnricher } from "../projector/enrich.js";
import { createWorkerRedis } from "../redis.js";
import type { SeamApi } from "../seam/api.js";
import type { SeamCalls } from "../seam/calls.js";
import { closeInOrder, type OnClosing, within } from "../shared/lifecycle.js";
import type { Core } from "./core.js";

const DAY_MS = 24 * 60 * 60 * 1000;

type WorkerRoleDeps = {
  config: Config;
  log: Logger;
  core: Core;
  /** With SEAM_API_KEY: enrichment of projected events (src/seam). */
  seamApi?: SeamApi | undefined;
  /** With SEAM_API_KEY: the executions' Seam calls (src/executor). */
  seamCalls?: SeamCalls | undefined;
};

/**
 * With SEAM_API_KEY: the executions' part of a worker (CONTRACT §8): the Seam-call worker on a
 * Redis connection of its own, and what the projector calls to advance executions.
 */
const createExecutor = ({ config, log, core }: WorkerRoleDeps, seamCalls: SeamCalls) => {
  const advance = { eventTimeoutMs: config.executionEventTimeoutMs };
  const followUp = createFollowUp({ queue: core.callsQueue, log, metrics: core.metrics });
  const redis = createWorkerRedis(config.redisUrl);
  redis.on("error", () => {});
  const runner = createCallRunner({
    db: core.db,
    calls: seamCalls,
    advance,
    followUp,
    metrics: core.metrics,
    log,
  });
  const worker = createCallWorker({
    connection: redis,
    prefix: config.queuePrefix,
    concurrency: config.seamApiConcurrency,
    runner,
    log,
  });
  return {
    projector: { advance, onFollowUps: followUp },
    start: () => {
      worker.start();
      resumeRunningExecutions({ db: core.db, advance, followUp, log }).catch(logSweepFailure(log));
    },
    close: (onClosing?: OnClosing) =>
      closeInOrder(
        [
          ["call worker", () => worker.close()],
          ["redis", () => redis.disconnect()],
        ],
        onClosing,
      ),
  };
};

/**
 * The worker role: the projector on a Redis connection of its own, the enricher, and, with
 * SEAM_API_KEY, the executions' Seam calls.
 */
export const createWorkerRole = async (deps: WorkerRoleDeps) => {
  const { config, log, core, seamApi, seamCalls } = deps;
  const executor = seamCalls ? createExecutor(deps, seamCalls) : undefined;
  const enricher = seamApi ? createEnricher({ api: seamApi, db: core.db, log }) : undefined;
  const redis = createWorkerRedis(config.redisUrl);
  redis.on("error", () => {});
  // Imported only where a worker runs: the projector brings @seamapi/types' event schemas,
  // about 35 MB resident that an API process never uses.
  const { createProjector } = await import("../projector/worker.js");
  const projector = createProjector({
    db: core.db,
    connection: redis,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    batchSize: config.workerBatchSize,
    log,
    metrics: core.metrics,
    workspaceId: config.seamWorkspaceId,
    ...(enricher ? { onProjected: enricher.onProjected } : {}),
    ...(executor ? { executions: executor.projector } : {}),
  });
  const retention = createRetention({
    db: core.db,
    queue: core.queue,
    log,
    eventsRetentionMs: config.eventsRetentionDays * DAY_MS,
    deadLetterRetentionMs: config.deadLetterRetentionDays * DAY_MS,
  });
  return {
    /** Once the database is migrated. */
    start: () => {
      projector.start();
      executor?.start();
      retention.start();
      log.info({ concurrency: config.workerConcurrency }, "projector started");
    },
    close: (onClosing?: OnClosing) =>
      closeInOrder(
        [
          ["retention", () => retention.close()],
          ["executor", executor && (() => executor.close(within("executor", onClosing)))],
          ["projector", () => projector.close()],
          ["enricher", enricher && (() => enricher.close())],
          ["redis", () => redis.disconnect()],
        ],
        onClosing,
      ),
  };
};
