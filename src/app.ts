import { Hono } from "hono";
import { BOARD_PATH, boardRoutes } from "./admin/board.js";
import type { DeadLetters } from "./admin/dead-letters.js";
import { deadLetterRoutes } from "./admin/routes.js";
import { consoleRoutes } from "./console/routes.js";
import { isConnectionError } from "./db/client.js";
import { adminWritesOnly, bearerAuth } from "./http/auth.js";
import { limitBody } from "./http/body-limit.js";
import { createOnError, notFound } from "./http/errors.js";
import { type HealthCheck, healthRoutes } from "./http/health.js";
import { createOpenApiRouter, mountDocs } from "./http/openapi.js";
import { requestLogging } from "./http/request-log.js";
import { untilStarted } from "./http/unavailable.js";
import type { EventsQueue } from "./ingest/queue.js";
import { type IngestRouteDeps, ingestRoutes } from "./ingest/route.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics/metrics.js";
import { metricsRoutes } from "./metrics/route.js";
import { listRoutes } from "./readiness/list-routes.js";
import { readinessRoutes } from "./readiness/routes.js";
import type { ReadinessService } from "./readiness/service.js";
import type { Waiting } from "./waiters/waiting.js";

export type AppDeps = {
  log: Logger;
  health: HealthCheck[];
  /** False until the database is migrated: `/v1` and the dead letters answer 503 till then. */
  started?: () => boolean;
  /** `/metrics`; every role serves it, so the worker's projection figures can be scraped. */
  metrics?: Pick<Metrics, "registry">;
  /** Absent in a worker process, which serves health and metrics only (docs/operations.md). */
  ingest?: IngestRouteDeps;
  /** The `/v1` query API, its waiting routes, the OpenAPI document, `/docs` and `/console`. */
  api?: { readiness: ReadinessService; waiting: Pick<Waiting, "routes">; tokens: string[] };
  /**
   * The dead-letter routes and Bull Board: read by the `/v1` tokens, changed only with one of
   * `tokens` (ADMIN_TOKENS; none: read-only for everyone).
   */
  admin?: { queue: EventsQueue; deadLetters: DeadLetters; tokens: string[] };
};

/** The HTTP app of one process: the http/ toolkit around the routes of the features it runs. */
export const createApp = (deps: AppDeps) => {
  const app = new Hono();
  app.onError(createOnError(deps.log, isConnectionError));
  app.notFound(notFound);
  app.use(...requestLogging(deps.log));
  // First of all /v1 and /admin work, tokens included: a body declared too large costs nothing
  // (docs/api.md). The routes that read a body count a chunked one (src/readiness/routes.ts).
  for (const path of ["/v1/*", "/admin/*"]) app.use(path, limitBody());
  // Bull Board needs only Redis, so it serves during a long start-up; these need the database.
  const started = deps.started ?? (() => true);
  for (const path of ["/v1/*", "/admin/dead-letters/*", "/admin/dead-letters"])
    app.use(path, untilStarted(started));
  app.route("/", healthRoutes(deps.health));
  if (deps.metrics) app.route("/", metricsRoutes(deps.metrics.registry));
  if (deps.ingest) app.route("/webhooks", ingestRoutes(deps.ingest));
  if (deps.api) {
    const router = createOpenApiRouter();
    // Before the routes, so a request without a valid token learns nothing, not even a 400.
    router.use("/v1/*", bearerAuth(deps.api.tokens));
    if (deps.admin) {
      router.use(
        "/admin/*",
        bearerAuth(deps.api.tokens, { allowBasic: true, adminTokens: deps.admin.tokens }),
        adminWritesOnly(),
      );
      deadLetterRoutes(router, deps.admin.deadLetters);
      router.route(BOARD_PATH, boardRoutes(deps.admin.queue));
    }
    readinessRoutes(router, deps.api.readiness);
    listRoutes(router, deps.api.readiness);
    deps.api.waiting.routes(router);
    mountDocs(router);
    app.route("/", router);
    // The operators' page reads /v1 with the token it is given; its files need none.
    app.route("/console", consoleRoutes());
  }
  return app;
};
