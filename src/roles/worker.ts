import { createRetention } from "../admin/retention.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createEnricher } from "../projector/enrich.js";
import { createWorkerRedis } from "../redis.js";
import type { SeamApi } from "../seam/api.js";
import { closeInOrder } from "../shared/lifecycle.js";
import type { Core } from "./core.js";

const DAY_MS = 24 * 60 * 60 * 1000;

type WorkerRoleDeps = {
  config: Config;
  log: Logger;
  core: Core;
  /** With SEAM_API_KEY: enrichment of projected events (src/seam). */
  seamApi?: SeamApi | undefined;
};

/** The worker role: the projector on a Redis connection of its own, and the enricher. */
export const createWorkerRole = async ({ config, log, core, seamApi }: WorkerRoleDeps) => {
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
      retention.start();
      log.info({ concurrency: config.workerConcurrency }, "projector started");
    },
    close: () =>
      closeInOrder([
        () => retention.close(),
        () => projector.close(),
        () => enricher?.close(),
        () => redis.disconnect(),
      ]),
  };
};
