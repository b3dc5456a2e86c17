import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";

/** Seconds a client should wait after a 503 before it tries again (docs/api.md). */
const RETRY_AFTER_SECONDS = "5";

/** Every 503 says when to come back, whoever raised it. */
export const setRetryAfter = (c: Context) => {
  if (c.res.headers.get("retry-after") === null) c.header("Retry-After", RETRY_AFTER_SECONDS);
};

/**
 * `503 service_unavailable` until `started()` holds: from the moment the process listens, its
 * routes that need the database answer so, rather than a 500 from a table not created yet
 * (docs/operations.md: start-up). The health routes stay outside, so probes see the start.
 */
export const untilStarted =
  (started: () => boolean): MiddlewareHandler =>
  async (_c, next) => {
    if (!started()) throw new AppError("service_unavailable", "starting up, retry shortly");
    await next();
  };
