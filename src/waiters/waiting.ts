import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Sql } from "../db/client.js";
import type { HealthCheck } from "../http/health.js";
import type { Logger } from "../log.js";
import type { Readiness } from "../shared/readiness.js";
import type { Clock } from "./clock.js";
import { createWaitingEvents } from "./events.js";
import { ReadinessListener } from "./listener.js";
import { createQueueWatch, type QueueCounts } from "./queue-watch.js";
import { type ReadReadiness, type WaiterLimits, WaiterRegistry } from "./registry.js";
import { waitingRoutes } from "./routes.js";

export type WaitingDeps = {
  databaseUrl: string;
  /** The NOTIFY channel whose payload is an identity id. */
  channel: string;
  /** The pool /readyz asks whether the listener's connection is there (never the listener's). */
  pool: Sql;
  read: ReadReadiness;
  readOne: (identityId: string) => Promise<Readiness>;
  log: Logger;
  clock?: Clock;
  /** MAX_WAITERS and each token's share of it; no limit without. */
  limits?: WaiterLimits;
  /** The events queue's counts, for the deletions stream's `queue` events. */
  queueCounts?: () => Promise<QueueCounts>;
};

/** How often the deletions stream's queue counts are read while a stream follows them. */
const QUEUE_COUNTS_INTERVAL_MS = 2_000;

/** A cap that is hit is logged at most this often, with how many waiters it refused meanwhile. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * Waiting, end to end, for one API process (docs/api.md): the one LISTEN connection, the
 * registry it wakes, and the long-poll and SSE routes that wait on it. After every LISTEN, the
 * first and each reconnect, every registered waiter is re-read, since notifications sent while
 * nobody listened are gone. Lifecycle is reported on `events`.
 */
export const createWaiting = (deps: WaitingDeps) => {
  const events = createWaitingEvents();
  const registry = new WaiterRegistry({
    read: deps.read,
    log: deps.log,
    events,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  let refused = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  events.on("refuse", ({ cap }) => {
    refused += 1;
    const now = registry.clock.now();
    if (now - loggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    deps.log.warn(
      { cap, refused, limits: deps.limits },
      "waiter limit reached: new long-polls and SSE streams get 503",
    );
    loggedAt = now;
    refused = 0;
  });
  const listener = new ReadinessListener({
    databaseUrl: deps.databaseUrl,
    channel: deps.channel,
    onNotify: (identityId) => registry.notify(identityId),
    events,
    log: deps.log,
  });
  events.on("listen:success", () => registry.recheckAll());
  const queueWatch = deps.queueCounts
    ? createQueueWatch({
        read: deps.queueCounts,
        clock: registry.clock,
        intervalMs: QUEUE_COUNTS_INTERVAL_MS,
      })
    : undefined;
  const health: HealthCheck = { name: "listener", check: () => listener.check(deps.pool) };
  return {
    events,
    health,
    /** Waiters registered now, over all identities. */
    get size() {
      return registry.size;
    },
    routes: (router: OpenAPIHono) =>
      waitingRoutes(router, { registry, readOne: deps.readOne, queueWatch }),
    /** Once the database exists (after migration): LISTEN, then keep listening. */
    start: () => listener.start(),
    /** Answers every waiter with its current state (docs/api.md), then stops listening. */
    close: async () => {
      try {
        await registry.close();
      } finally {
        await listener.close();
      }
    },
  };
};

export type Waiting = ReturnType<typeof createWaiting>;
