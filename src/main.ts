import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import type { ServerType } from "@hono/node-server";
import { createDeadLetters } from "./admin/dead-letters.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createPool } from "./db/client.js";
import { ensureDatabase, migrateDatabase } from "./db/migrate.js";
import { toError } from "./errors.js";
import { createApp } from "./http/app.js";
import type { HealthCheck } from "./http/health.js";
import { createHttpServer } from "./http/server.js";
import { createQueueGate } from "./ingest/backpressure.js";
import { createEnqueue } from "./ingest/enqueue.js";
import { createEventsQueue } from "./ingest/queue.js";
import { createVerifier } from "./ingest/verify.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics } from "./metrics/metrics.js";
import { createReadinessService } from "./readiness/service.js";
import { createProducerRedis, createWorkerRedis } from "./redis.js";
import type { SeamApi } from "./seam/api.js";
import { createEnricher } from "./seam/enrich.js";
import { READINESS_CHANNEL } from "./sql/notify-readiness.js";
import { ReadinessListener } from "./waiters/listener.js";
import { WaiterRegistry } from "./waiters/registry.js";

export type RunningService = {
  url: string;
  close: () => Promise<void>;
  /** The API role's waiters, so in-process tests can see that a wait leaves nothing behind. */
  waiters: WaiterRegistry | undefined;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps trying until Postgres answers: a service started before its database is normal. */
const migrateWhenReachable = async (config: Config, log: Logger, stopped: () => boolean) => {
  for (let attempt = 1; !stopped(); attempt += 1) {
    try {
      await ensureDatabase(config.databaseUrl);
      await migrateDatabase(config.databaseUrl);
      log.info("database migrated");
      return true;
    } catch (error) {
      log.warn({ attempt, err: toError(error) }, "migration failed, retrying");
      await sleep(Math.min(500 * attempt, 5000));
    }
  }
  return false;
};

const listen = (
  app: { fetch: (request: Request) => Response | Promise<Response> },
  config: Config,
) =>
  new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    // Not serve(): it cannot answer malformed requests with the envelope (src/http/server.ts).
    const server = createHttpServer(app.fetch, config.host);
    server.listen(config.port, config.host, () =>
      resolve({ server, port: (server.address() as AddressInfo).port }),
    );
    server.once("error", reject);
  });

const closeServer = (server: ServerType) =>
  new Promise<void>((resolve) => {
    // Answered waiters (long-polls, SSE streams) leave keep-alive connections that turn idle
    // after close() began; sweep those too rather than sit out the keep-alive timeout.
    const sweep =
      "closeIdleConnections" in server
        ? setInterval(() => server.closeIdleConnections(), 100)
        : undefined;
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });

/** The composition root: builds every long-lived thing for the configured role, and its end. */
export const startService = async (
  config: Config,
  log: Logger,
  /** A Seam API client of the caller's (tests: short timeouts); else one from the config. */
  overrides: { seamApi?: SeamApi } = {},
): Promise<RunningService> => {
  const servesApi = config.role !== "worker";
  const runsWorker = config.role !== "api";
  let stopping = false;
  // With SEAM_API_KEY: discovery in the API role, enrichment in the worker role (src/seam).
  // First, so a malformed key stops start-up before anything is opened; loaded only then,
  // since @seamapi/http takes about a second to import.
  const seamApi =
    overrides.seamApi ??
    (config.seamApiKey
      ? (await import("./seam/api.js")).createSeamApi({
          apiKey: config.seamApiKey,
          endpoint: config.seamEndpoint,
        })
      : undefined);

  const db = createPool(config.databaseUrl, {
    max: config.databasePoolSize,
    applicationName: `seam-projector-${config.role}`,
  });
  const producerRedis = createProducerRedis(config.redisUrl);
  producerRedis.on("error", () => {}); // reported by /readyz; ioredis reconnects by itself
  // Every role holds the queue: the API adds to it, and any role reports its depth in /metrics.
  const queue = createEventsQueue(producerRedis, config.queuePrefix);
  queue.on("error", () => {});
  const enqueuer = servesApi
    ? createEnqueue(queue, { timeoutMs: config.enqueueTimeoutMs })
    : undefined;
  const gate =
    servesApi && config.queueMaxDepth > 0
      ? createQueueGate({ maxDepth: config.queueMaxDepth, readDepth: () => queue.count() })
      : undefined;
  const now = () => new Date();
  const enricher = seamApi && runsWorker ? createEnricher({ api: seamApi, db, log }) : undefined;

  // API role: the readiness feature, this process's waiters, and the one LISTEN connection
  // that wakes them (CONTRACT §5). A notification re-reads only the identities waited on.
  const readiness = servesApi
    ? createReadinessService(db, seamApi ? { discover: seamApi.listIdentityFootprint } : {})
    : undefined;
  const waiters = readiness
    ? new WaiterRegistry({
        read: readiness.read,
        log,
        // Called only once requests flow, after `metrics` below exists.
        observeWake: (seconds) => metrics.waiterWakeSeconds.observe(seconds),
      })
    : undefined;
  const metrics = createMetrics({
    role: config.role,
    queueDepth: () => queue.getJobCounts("waiting", "active", "delayed", "failed"),
    ...(waiters ? { waitersActive: () => waiters.size } : {}),
  });
  const listener = waiters
    ? new ReadinessListener({
        databaseUrl: config.databaseUrl,
        channel: READINESS_CHANNEL,
        onNotify: (identityId) => waiters.notify(identityId),
        onListen: (reconnected) => {
          if (reconnected) metrics.listenerReconnects.inc();
          waiters.recheckAll();
        },
        log,
      })
    : undefined;

  const health: HealthCheck[] = [
    { name: "postgres", check: async () => void (await db`select 1`) },
    { name: "redis", check: async () => void (await producerRedis.ping()) },
    ...(listener ? [{ name: "listener", check: () => listener.check(db) }] : []),
  ];
  const app = createApp({
    log,
    health,
    metrics,
    ...(enqueuer
      ? {
          ingest: {
            verify: createVerifier(config.webhookSecrets, now),
            enqueue: enqueuer.enqueue,
            now,
            bodyLimitBytes: config.webhookBodyLimitBytes,
            metrics,
            ...(gate ? { gate } : {}),
          },
        }
      : {}),
    ...(readiness && waiters ? { api: { readiness, waiters, tokens: config.apiTokens } } : {}),
    ...(servesApi ? { admin: { queue, deadLetters: createDeadLetters(queue, db) } } : {}),
  });
  const { server, port } = await listen(app, config);
  const url = `http://${config.host}:${port}`;
  log.info({ url }, "listening");
  if (config.usingLocalDefaults) {
    log.warn(
      "using the local development webhook secret and API token from the README; set SEAM_WEBHOOK_SECRET and API_TOKENS outside development",
    );
  }

  const workerRedis = runsWorker ? createWorkerRedis(config.redisUrl) : undefined;
  workerRedis?.on("error", () => {});
  // Imported only where a worker runs: the projector brings @seamapi/types' event schemas,
  // about 35 MB resident that an API process never uses.
  const projector = workerRedis
    ? (await import("./projector/worker.js")).createProjector({
        db,
        connection: workerRedis,
        prefix: config.queuePrefix,
        concurrency: config.workerConcurrency,
        batchSize: config.workerBatchSize,
        log,
        metrics,
        ...(enricher ? { onProjected: enricher.onProjected } : {}),
      })
    : undefined;
  const migrated = migrateWhenReachable(config, log, () => stopping).then((ok) => {
    // After migration, so the database exists (a first `npm start` creates it).
    if (ok && !stopping) listener?.start();
    if (ok && projector && !stopping) {
      projector.start();
      log.info({ concurrency: config.workerConcurrency }, "projector started");
    }
  });

  const close = async () => {
    stopping = true;
    // Stop accepting, then answer every waiter with its current state (CONTRACT §6): the
    // server cannot finish closing while long-polls and SSE streams hold their connections.
    const serverClosed = closeServer(server);
    await waiters?.close();
    await serverClosed;
    await listener?.close();
    await migrated;
    await projector?.close();
    await enricher?.close();
    await enqueuer?.drain();
    await queue.close();
    producerRedis.disconnect();
    workerRedis?.disconnect();
    await db.end({ timeout: 5 });
  };
  return { url, close, waiters };
};

const main = async () => {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`seam-projector: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, { role: config.role });
  const service = await startService(config, log);
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, "shutdown deadline passed, exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    service.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: toError(error) }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`seam-projector: ${toError(error).message}\n`);
    process.exit(1);
  });
}
