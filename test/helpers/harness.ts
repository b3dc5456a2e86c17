import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { loadConfig, type Role } from "../../src/config.js";
import { createLogger, type Logger } from "../../src/log.js";
import { startService } from "../../src/main.js";
import type { SeamApi } from "../../src/seam/api.js";
import type { Clock } from "../../src/waiters/clock.js";
import { apiClient, TEST_TOKEN } from "./client.js";
import type { FakeSeam } from "./fake-seam.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { type ChildHandle, killChild, spawnService, stopService } from "./process.js";
import { openEventsQueue } from "./queue.js";
import { dropPrefix, REDIS_URL, testPrefix } from "./redis.js";
import { waitFor } from "./wait-for.js";

/**
 * The one way a test starts seam-projector (unkey's testutil/harness.ts is the model): a harness
 * owns what the services of one test share (a database copied from the run's template, a queue
 * prefix, a webhook secret, a handle on the queue) and starts any number of services on it, each
 * `in-process` (startService as main.ts calls it) or as a `process` (`tsx src/main.ts` as a
 * child, ended by its pid), with the same API either way.
 */

/** A webhook secret of this test's own, so no test passes by accident on the local default. */
const createTestSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

export type Flavour = "in-process" | "process";

export type HarnessOptions = {
  /** A database shared with another harness; a fresh one of this harness's own otherwise. */
  database?: TestDatabase;
  /**
   * Where the services connect instead: a proxy, a private cluster, a database that does not
   * exist yet. No test database is made then.
   */
  databaseUrl?: string;
  /** A private redis-server of the test's own; the shared one otherwise. */
  redisUrl?: string;
  /** A queue prefix and secret shared with another harness. */
  prefix?: string;
  secret?: string;
  /** More environment for every service of the harness. */
  env?: Record<string, string>;
};

export type StartOptions = {
  flavour?: Flavour;
  role?: Role;
  /** More environment for this service (e.g. a backpressure limit). */
  env?: Record<string, string>;
  /** A fake Seam API this service's discovery and enrichment call. */
  seam?: FakeSeam;
  /** In-process only: where the service logs (silent unless given), a Seam client of its own. */
  log?: Logger;
  seamApi?: SeamApi;
  /** In-process only: the waiters' clock (a manual one makes a 30 s wait take no time). */
  clock?: Clock;
  /** Process only: a built entry (dist/main.js) instead of src/main.ts, and node flags. */
  entry?: string;
  nodeArgs?: string[];
  /**
   * Resolved once `/readyz` answers 200 (and, for a process that projects, once its projector
   * started); `false` resolves as soon as it listens (or, for a process, at once).
   */
  ready?: boolean;
  readyTimeoutMs?: number;
};

/** The environment a service of a harness runs with, in-process or as a child process. */
const serviceEnv = (options: {
  databaseUrl: string;
  prefix: string;
  secret: string;
  role: Role;
  redisUrl?: string;
}): Record<string, string> => ({
  ROLE: options.role,
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: options.databaseUrl,
  DATABASE_POOL_SIZE: "4",
  REDIS_URL: options.redisUrl ?? REDIS_URL,
  QUEUE_PREFIX: options.prefix,
  SEAM_WEBHOOK_SECRET: options.secret,
  API_TOKENS: TEST_TOKEN,
  LOG_LEVEL: "silent",
});

/** What a service's `/healthz` and `/readyz` answer, with each readiness check's state. */
const readHealth = async (url: string) => {
  const [healthz, readyz] = await Promise.all([fetch(`${url}/healthz`), fetch(`${url}/readyz`)]);
  const body = (await readyz.json()) as { checks: Record<string, string> };
  return { healthz: healthz.status, readyz: readyz.status, checks: body.checks };
};

const startInProcess = async (env: Record<string, string>, options: StartOptions) => {
  const config = loadConfig(env);
  const service = await startService(config, options.log ?? createLogger("silent"), {
    ...(options.seamApi ? { seamApi: options.seamApi } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let closed: Promise<void> | undefined;
  return {
    url: service.url,
    waiters: service.waiters,
    closing: service.closing,
    process: undefined,
    stop: () => {
      closed ??= service.close();
      return closed;
    },
  };
};

const startProcess = async (env: Record<string, string>, options: StartOptions) => {
  const child = await spawnService(env, {
    ...(options.entry ? { entry: options.entry } : {}),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  });
  return {
    url: child.url,
    waiters: undefined,
    closing: () => undefined,
    process: child as ChildHandle,
    /** SIGTERM (SIGKILL after a grace), or the signal given, by the child's pid. */
    stop: (signal?: NodeJS.Signals) =>
      signal === undefined ? stopService(child) : killChild(child, signal),
  };
};

const untilReady = async (
  started: { url: string; process: ChildHandle | undefined },
  projects: boolean,
  timeoutMs: number,
) => {
  const { process } = started;
  if (process && projects) {
    await waitFor(
      () => {
        if (process.child.exitCode !== null) throw new Error("exited");
        return process.output().includes('"msg":"projector started"');
      },
      { timeoutMs, intervalMs: 50, message: "projector started" },
    );
  }
  await waitFor(async () => (await fetch(`${started.url}/readyz`)).status === 200, {
    timeoutMs,
    intervalMs: 50,
    message: `readyz of ${started.url}`,
  });
};

type Started = Awaited<ReturnType<typeof startInProcess | typeof startProcess>>;

/** One running seam-projector, whichever its flavour, and the HTTP calls against it. */
const serviceOf = (started: Started, flavour: Flavour, role: Role, secret: string) => ({
  ...apiClient(started.url, { secret }),
  flavour,
  role,
  url: started.url,
  webhookUrl: `${started.url}/webhooks/seam`,
  /** The webhook secret it verifies with (the harness's). */
  secret,
  /** The child process (process flavour): its pid, output and exit. */
  process: started.process,
  /** The process's waiter registry (in-process, API roles). */
  get waiters() {
    if (started.waiters === undefined) throw new Error("no waiters in this service");
    return started.waiters;
  },
  health: () => readHealth(started.url),
  /** Stops this service only (the harness's database and queue stay); a process by `signal`. */
  stop: started.stop,
  /** In-process, while a stop runs: the part it waits for (a process's is in its log). */
  closing: started.closing,
});

export type Service = ReturnType<typeof serviceOf>;
/** A service of the process flavour: its child process is always there. */
export type ProcessService = Service & { readonly process: ChildHandle };
export type Harness = Awaited<ReturnType<typeof createHarness>>;

export const createHarness = async (options: HarnessOptions = {}) => {
  const database =
    options.database ??
    (options.databaseUrl === undefined ? await createTestDatabase({ max: 4 }) : undefined);
  const databaseUrl = options.databaseUrl ?? database?.url ?? "";
  const prefix = options.prefix ?? testPrefix();
  const secret = options.secret ?? createTestSecret();
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const services: Service[] = [];
  let queue: ReturnType<typeof openEventsQueue> | undefined;

  const start = async (startOptions: StartOptions = {}): Promise<Service> => {
    const flavour = startOptions.flavour ?? "in-process";
    const role = startOptions.role ?? "all";
    const env = {
      ...serviceEnv({ databaseUrl, prefix, secret, role, redisUrl }),
      // A child's output is kept for failure messages and for what a test waits to see logged.
      LOG_LEVEL: flavour === "process" ? "info" : "silent",
      ...(startOptions.seam
        ? { SEAM_API_KEY: startOptions.seam.apiKey, SEAM_ENDPOINT: startOptions.seam.url }
        : {}),
      ...options.env,
      ...startOptions.env,
    };
    const started = await (flavour === "in-process" ? startInProcess : startProcess)(
      env,
      startOptions,
    );
    const service = serviceOf(started, flavour, role, secret);
    services.push(service);
    if (startOptions.ready ?? true) {
      try {
        // A process says when its projector started only at LOG_LEVEL info and below.
        const logsStart = ["info", "debug", "trace"].includes(env.LOG_LEVEL);
        const projects = flavour === "process" && role !== "api" && logsStart;
        await untilReady(started, projects, startOptions.readyTimeoutMs ?? 30_000);
      } catch (error) {
        throw new Error(`${String(error)}\n${started.process?.output() ?? ""}`);
      }
    }
    return service;
  };

  return {
    /** The harness's test database; absent when started on `databaseUrl`. */
    get database(): TestDatabase {
      if (database === undefined) throw new Error("this harness runs on databaseUrl");
      return database;
    },
    databaseUrl,
    prefix,
    secret,
    redisUrl,
    /** A handle on the harness's queue, opened at first use. */
    get queue() {
      queue ??= openEventsQueue(prefix, redisUrl);
      return queue;
    },
    /** Starts one more service on the harness's database, queue and secret. */
    start,
    /** Starts one as a child process (`tsx src/main.ts`), e.g. one more worker. */
    spawn: async (startOptions: Omit<StartOptions, "flavour"> = {}) =>
      (await start({ ...startOptions, flavour: "process" })) as ProcessService,
    /** Stops every service, closes the queue handle, drops what the harness made. */
    close: async () => {
      await Promise.allSettled(services.map((service) => service.stop()));
      await queue?.close();
      if (options.prefix === undefined && options.redisUrl === undefined) {
        await dropPrefix(prefix);
      }
      if (options.database === undefined) await database?.drop();
    },
  };
};

/** A harness and the first service started on it (`service`). */
export type HarnessWithService = Harness & { readonly service: Service };

/** A harness with one service on it, started now (in-process, ROLE=all unless told). */
export const startHarness = async (
  options: HarnessOptions = {},
  first: StartOptions = {},
): Promise<HarnessWithService> => {
  const harness = await createHarness(options);
  try {
    const service = await harness.start(first);
    return Object.assign(harness, { service });
  } catch (error) {
    await harness.close();
    throw error;
  }
};

/**
 * One harness for every test of a file, made before the first and closed after the last, with
 * its first service (`first`; `false` for a file that starts its services itself).
 */
export const useHarness = (
  options: HarnessOptions | (() => Promise<HarnessOptions>) = {},
  first: StartOptions | false = {},
): (() => HarnessWithService) => {
  let harness: HarnessWithService | undefined;
  beforeAll(async () => {
    const resolved = typeof options === "function" ? await options() : options;
    if (first !== false) {
      harness = await startHarness(resolved, first);
      return;
    }
    harness = Object.defineProperty(await createHarness(resolved), "service", {
      get: () => {
        throw new Error("this file starts its services itself");
      },
    }) as HarnessWithService;
  });
  afterAll(async () => {
    await harness?.close();
  });
  return () => {
    if (harness === undefined) throw new Error("the harness is made in beforeAll");
    return harness;
  };
};
