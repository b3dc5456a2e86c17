import { Hono } from "hono";
import type { IngestDeps } from "../ingest/ingest.js";
import { ingestRoutes } from "../ingest/route.js";
import type { Logger } from "../log.js";
import { type ReadinessRouteDeps, readinessRoutes } from "../readiness/routes.js";
import { bearerAuth } from "./auth.js";
import { createOnError, notFound } from "./errors.js";
import { type HealthCheck, healthRoutes } from "./health.js";
import { createOpenApiRouter, mountDocs } from "./openapi.js";

export type AppDeps = {
  log: Logger;
  health: HealthCheck[];
  /** Absent in a worker process, which serves health only (CONTRACT §2). */
  ingest?: IngestDeps & { bodyLimitBytes: number };
  /** The `/v1` query API, its OpenAPI document and `/docs`; absent in a worker process. */
  api?: ReadinessRouteDeps & { tokens: string[] };
};

export const createApp = (deps: AppDeps) => {
  const app = new Hono();
  app.onError(createOnError(deps.log));
  app.notFound(notFound);
  app.route("/", healthRoutes(deps.health));
  if (deps.ingest) app.route("/webhooks", ingestRoutes(deps.ingest));
  if (deps.api) {
    const router = createOpenApiRouter();
    // Before the routes, so a request without a valid token learns nothing, not even a 400.
    router.use("/v1/*", bearerAuth(deps.api.tokens));
    readinessRoutes(router, deps.api);
    mountDocs(router);
    app.route("/", router);
  }
  return app;
};
