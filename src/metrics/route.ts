import { Hono } from "hono";
import type { Registry } from "prom-client";

/**
 * `GET /metrics` in Prometheus text format. Unauthenticated, as Prometheus scrapes expect; it
 * carries counts and timings only, never ids, tokens or payloads. Keep the port off the public
 * internet, or put the scrape behind the network policy of your platform.
 */
export const metricsRoutes = (registry: Registry) =>
  new Hono().get("/metrics", async (c) => {
    c.header("Content-Type", registry.contentType);
    return c.body(await registry.metrics());
  });
