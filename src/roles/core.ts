import type { Config } from "../config.js";
import { createPool } from "../db/client.js";
import { createCallsQueue } from "../executor/queue.js";
import type { HealthCheck } from "../http/health.js";
import { createEventsQueue } from "../ingest/queue.js";
import { createMetrics } from "../metrics/metrics.js";
import { createProducerRedis } from "../redis.js";
import { closeInOrder, type OnClosing } from "../shared/lifecycle.js";
import { pingDatabase } from "../sql/probes.js";

/**
 * What every role holds: the Postgres pool, the producer Redis connection, the events queue
 * (the API adds to it, and any role reports its depth in /metrics), the executions' Seam-call
 * queue and the metrics.
 */
export const createCore = (config: Config) => {
  const db = createPool(config.databaseUrl, {
    max: config.databasePoolSize,
    applicationName: `seam-projector-${config.role}`,
  });
  const redis = createProducerRedis(config.redisUrl);
  redis.on("error", () => {}); // reported by /readyz; ioredis reconnects by itself
  const queue = createEventsQueue(redis, config.queuePrefix);
  queue.on("error", () => {});
  // Executions' Seam calls: the API adds a start's, the worker the rest (src/executor).
  const callsQueue = createCallsQueue(redis, config.queuePrefix);
  callsQueue.on("error", () => {});
  const metrics = createMetrics({
    role: config.role,
    queueDepth: () => queue.getJobCounts("waiting", "active", "delayed", "failed"),
  });
  const health: HealthCheck[] = [
    { name: "postgres", check: async () => void (await pingDatabase(db)) },
    { name: "redis", check: async () => void (await redis.ping()) },
  ];
  return {
    db,
    queue,
    callsQueue,
    metrics,
    health,
    close: (onClosing?: OnClosing) =>
      closeInOrder(
        [
          ["events queue", () => queue.close()],
          ["calls queue", () => callsQueue.close()],
          ["redis", () => redis.disconnect()],
          ["postgres pool", () => db.end({ timeout: 5 })],
        ],
        onClosing,
      ),
  };
};

export type Core = ReturnType<typeof createCore>;
