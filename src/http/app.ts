import { Hono } from "hono";
import type { IngestDeps } from "../ingest/ingest.js";
import { ingestRoutes } from "../ingest/route.js";
import type { Logger } from "../log.js";
import { createOnError, notFound } from "./errors.js";
import { type HealthCheck, healthRoutes } from "./health.js";

export type AppDeps = {
  log: Logger;
  health: HealthCheck[];
  /** Absent in a worker process, which serves health only (CONTRACT §2). */
  ingest?: IngestDeps & { bodyLimitBytes: number };
};

export const createApp = (deps: AppDeps) => {
  const app = new Hono();
  app.onError(createOnError(deps.log));
  app.notFound(notFound);
  app.route("/", healthRoutes(deps.health));
  if (deps.ingest) app.route("/webhooks", ingestRoutes(deps.ingest));
  return app;
};
