import { createDeadLetters } from "../admin/dead-letters.js";
import type { AppDeps } from "../app.js";
import type { Config } from "../config.js";
import { createFollowUp } from "../executor/follow-up.js";
import { createQueueGate } from "../ingest/backpressure.js";
import { createEnqueue } from "../ingest/enqueue.js";
import { createVerifier } from "../ingest/verify.js";
import type { Logger } from "../log.js";
import { createReadinessService } from "../readiness/service.js";
import type { SeamApi } from "../seam/api.js";
import { READINESS_CHANNEL } from "../sql/notify-readiness.js";
import { withTimeout } from "../util/timeout.js";
import type { Clock } from "../waiters/clock.js";
import { createWaiting } from "../waiters/waiting.js";
import type { Core } from "./core.js";

/**
 * Longest a reading of the deletions stream's queue counts waits (the waiters read them every
 * QUEUE_COUNTS_INTERVAL_MS): a hung Redis answers nothing, ever; the stream keeps the last ones.
 */
const QUEUE_COUNTS_TIMEOUT_MS = 1000;

export type ApiRoleDeps = {
  config: Config;
  log: Logger;
  core: Core;
  /** With SEAM_API_KEY: discovery (`"discover": true`) and executions (`"execute": true`). */
  seamApi?: SeamApi | undefined;
  /** The waiters' clock; tests pass a manual one. */
  clock?: Clock | undefined;
};

/**
 * The API role: webhook ingress, the `/v1` readiness API with this process's waiters and the
 * one LISTEN connection that wakes them (docs/api.md), the admin routes.
 */
export const createApiRole = ({ config, log, core, seamApi, clock }: ApiRoleDeps) => {
  const { db, queue, metrics } = core;
  const now = () => new Date();
  const followUp = createFollowUp({ queue: core.callsQueue, log, metrics });
  const enqueuer = createEnqueue(queue, { timeoutMs: config.enqueueTimeoutMs });
  const gate =
    config.queueMaxDepth > 0
      ? createQueueGate({ maxDepth: config.queueMaxDepth, readDepth: () => queue.count() })
      : undefined;
  const readiness = createReadinessService(
    db,
    seamApi
      ? {
          discover: seamApi.listIdentityFootprint,
          execution: {
            advance: { eventTimeoutMs: config.executionEventTimeoutMs },
            // A hung Redis never answers the add (the producer client has no offline queue,
            // but a connection that is open and silent waits for ever): bounded as a webhook's
            // enqueue is, so the POST is a 503 in time rather than a request left hanging.
            onFollowUps: (followUps) => withTimeout(followUp(followUps), config.enqueueTimeoutMs),
          },
        }
      : {},
  );
  // A notification re-reads only the identities waited on.
  const waiting = createWaiting({
    databaseUrl: config.databaseUrl,
    channel: READINESS_CHANNEL,
    pool: core.db,
    read: readiness.read,
    readOne: readiness.readOne,
    log,
    ...(clock ? { clock } : {}),
    limits: { total: config.maxWaiters, perOwner: config.maxWaitersPerToken },
    queueCounts: async () => {
      const counts = await withTimeout(
        queue.getJobCounts("waiting", "failed"),
        QUEUE_COUNTS_TIMEOUT_MS,
      );
      return { waiting: counts.waiting ?? 0, failed: counts.failed ?? 0 };
    },
  });
  waiting.events.on("refuse", ({ cap }) => metrics.waitersRefused.inc({ cap }));
  metrics.countWaiters(() => waiting.size);
  waiting.events.on("wake", ({ identityIds, seconds }) => {
    if (seconds === undefined) return;
    for (const _ of identityIds) metrics.waiterWakeSeconds.observe(seconds);
  });
  waiting.events.on("listen:success", ({ reconnected }) => {
    if (reconnected) metrics.listenerReconnects.inc();
  });
  const routes = {
    ingest: {
      verify: createVerifier(config.webhookSecrets, now),
      enqueue: enqueuer.enqueue,
      now,
      bodyLimitBytes: config.webhookBodyLimitBytes,
      metrics,
      ...(gate ? { gate } : {}),
    },
    api: { readiness, waiting, tokens: config.apiTokens },
    admin: { queue, deadLetters: createDeadLetters(queue, db), tokens: config.adminTokens },
  } satisfies Partial<AppDeps>;
  return {
    routes,
    health: [waiting.health],
    waiting,
    /** Once the database exists: the listener starts. */
    start: () => waiting.start(),
    /** Answers every waiter with its current state and stops listening (docs/api.md). */
    drain: () => waiting.close(),
    /** Waits for the events being added to the queue. */
    close: () => enqueuer.drain(),
  };
};

export type ApiRole = ReturnType<typeof createApiRole>;
