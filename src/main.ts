import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import type { ServerType } from "@hono/node-server";
import { createApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { ensureDatabase, migrateDatabase } from "./db/migrate.js";
import { toError } from "./errors.js";
import { createHttpServer } from "./http/server.js";
import { chooseLogFormat, createLogger, type Logger } from "./log.js";
import { type ApiRole, createApiRole } from "./roles/api.js";
import { createCore } from "./roles/core.js";
import { createWorkerRole } from "./roles/worker.js";
import type { SeamApi } from "./seam/api.js";
import type { SeamCalls } from "./seam/calls.js";
import { closeInOrder, within } from "./shared/lifecycle.js";
import { withTimeout } from "./util/timeout.js";
import type { Clock } from "./waiters/clock.js";

export type RunningService = {
  url: string;
  close: () => Promise<void>;
  /** While close() runs, the part it is waiting for (`worker: projector`, say). */
  closing: () => string | undefined;
  /** The API role's waiters, so in-process tests can see that a wait leaves nothing behind. */
  waiters: ApiRole["waiting"] | undefined;
};

/**
 * Connections kept beyond MAX_WAITERS for what must go on when the waiters are at their cap:
 * webhooks, probes, the other /v1 calls and idle keep-alive connections.
 */
const CONNECTION_RESERVE = 1000;

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
    const server = createHttpServer(app.fetch, config.host, {
      maxConnections: config.maxWaiters + CONNECTION_RESERVE,
    });
    server.listen(config.port, config.host, () =>
      resolve({ server, port: (server.address() as AddressInfo).port }),
    );
    server.once("error", reject);
  });

/**
 * How long a stopping server waits, once its waiters are answered, for the requests still in
 * hand to finish before it closes their connections. Within SHUTDOWN_TIMEOUT_MS (10 s) with
 * the worker's jobs in hand after it; above a webhook's longest (ENQUEUE_TIMEOUT_MS, 1.5 s).
 */
const CONNECTIONS_GRACE_MS = 3000;

/**
 * Waits for `closed` (the server's close) for CONNECTIONS_GRACE_MS, then closes the
 * connections still open and says how many: a request that does not end must not hold the
 * stop for ever (in a test's process there is no deadline to end it). Once seen in CI, after
 * every waiter was answered.
 */
const closeConnections = async (server: ServerType, closed: Promise<void>, log: Logger) => {
  // `closed` never rejects: the only failure is the grace's TimeoutError.
  const ended = await withTimeout(closed, CONNECTIONS_GRACE_MS).then(
    () => true,
    () => false,
  );
  if (ended || !("closeAllConnections" in server)) return closed;
  const open = await new Promise<number>((resolve) =>
    server.getConnections((error, count) => resolve(error ? Number.NaN : count)),
  );
  log.warn(
    { connections: open, graceMs: CONNECTIONS_GRACE_MS },
    "connections still open at shutdown after the grace; closing them",
  );
  server.closeAllConnections();
  return closed;
};

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
  overrides: {
    /** A Seam API client of the caller's (tests: short timeouts); else one from the config. */
    seamApi?: SeamApi;
    /** The waiters' clock (tests: a manual one); else the system's. */
    clock?: Clock;
    /** The executions' Seam calls (tests: their own); else, with SEAM_API_KEY, from the config. */
    seamCalls?: SeamCalls;
  } = {},
): Promise<RunningService> => {
  let stopping = false;
  // With SEAM_API_KEY: discovery in the API role, enrichment in the worker role (src/seam).
  // First, so a malformed key stops start-up before anything is opened; loaded only then,
  // since @seamapi/http takes about a second to import.
  const seam = config.seamApiKey
    ? { apiKey: config.seamApiKey, endpoint: config.seamEndpoint }
    : undefined;
  const seamApi =
    overrides.seamApi ?? (seam && (await import("./seam/api.js")).createSeamApi(seam));
  const seamCalls =
    overrides.seamCalls ?? (seam && (await import("./seam/calls.js")).createSeamCalls(seam));

  const core = createCore(config);
  // Until the database is migrated, /v1 answers 503 and /readyz says so, in every role.
  let databaseReady = false;
  const migrations = {
    name: "migrations",
    check: async () => {
      if (!databaseReady) throw new Error("not applied yet");
    },
  };
  const api =
    config.role === "worker"
      ? undefined
      : createApiRole({ config, log, core, seamApi, clock: overrides.clock });
  const app = createApp({
    log,
    health: [migrations, ...core.health, ...(api?.health ?? [])],
    started: () => databaseReady,
    metrics: core.metrics,
    ...api?.routes,
  });
  const { server, port } = await listen(app, config).catch(async (error: unknown) => {
    // A port already taken: what was opened must not keep the process (or Redis) alive.
    await closeInOrder([
      ["waiters", api?.drain],
      ["core", () => core.close()],
    ]).catch(() => {});
    throw error;
  });
  const url = `http://${config.host}:${port}`;
  log.info({ url }, "listening");
  if (config.usingLocalDefaults) {
    log.warn(
      "using the local development webhook secret and API token from the README; set SEAM_WEBHOOK_SECRET and API_TOKENS outside development",
    );
  }
  // After listening: until the projector is loaded, the health routes answer already. A
  // projector that cannot be built must not leave the server, Redis and the pool open.
  const worker =
    config.role === "api"
      ? undefined
      : await createWorkerRole({ config, log, core, seamApi, seamCalls }).catch(
          async (error: unknown) => {
            await closeInOrder([
              ["http server", () => new Promise<void>((resolve) => server.close(() => resolve()))],
              ["waiters", api?.drain],
              ["core", () => core.close()],
            ]).catch(() => {});
            throw error;
          },
        );
  const migrated = migrateWhenReachable(config, log, () => stopping).then((ok) => {
    // After migration, so the database exists (a first `npm start` creates it).
    if (!ok || stopping) return;
    databaseReady = true;
    api?.start();
    worker?.start();
  });

  // In reverse order of building; each part is closed even when one before it fails.
  let closing: string | undefined;
  const onClosing = (part: string) => {
    closing = part;
  };
  const close = () => {
    stopping = true;
    return closeInOrder(
      [
        [
          "http",
          async () => {
            // Stop accepting, then answer every waiter with its current state (docs/api.md):
            // the server cannot finish closing while long-polls and SSE streams hold their
            // connections.
            const serverClosed = closeServer(server);
            await closeInOrder(
              [
                ["waiters", api?.drain],
                ["connections", () => closeConnections(server, serverClosed, log)],
              ],
              within("http", onClosing),
            );
          },
        ],
        ["migrations", () => migrated],
        ["worker", worker && (() => worker.close(within("worker", onClosing)))],
        ["enqueuer", api?.close],
        ["core", () => core.close(within("core", onClosing))],
      ],
      onClosing,
    ).finally(() => {
      closing = undefined;
    });
  };
  return { url, close, closing: () => closing, waiters: api?.waiting };
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
  const format = chooseLogFormat({
    stdoutIsTTY: process.stdout.isTTY,
    production: config.production,
  });
  const log = createLogger(config.logLevel, { role: config.role }, undefined, format);
  const service = await startService(config, log);
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      log.error(
        { timeoutMs: config.shutdownTimeoutMs, closing: service.closing() },
        "shutdown deadline passed, exiting",
      );
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
