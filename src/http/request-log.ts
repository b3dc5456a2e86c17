import type { Context, MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import type { Logger } from "../log.js";

/** Probes and scrapes arrive every few seconds; at `info` they would bury everything else. */
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is a safe token, else a new
 * UUID, echoed in the answer) and a child logger that carries it, so every line logged while
 * serving the request names it. The closing line records method, path, status and duration:
 * never headers, query strings or bodies, where tokens and signatures live.
 */
export const requestLogging = (log: Logger): MiddlewareHandler[] => [
  requestId({ limitLength: 128 }),
  async (c, next) => {
    const requestLog = log.child({ requestId: c.get("requestId") });
    c.set("log", requestLog);
    const started = performance.now();
    await next();
    const level = QUIET_PATHS.has(c.req.path) ? "debug" : c.res.status >= 500 ? "error" : "info";
    requestLog[level](
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      "request",
    );
  },
];

/** The request's logger, or `fallback` outside a request (or before the middleware ran). */
export const requestLogger = (c: Context, fallback: Logger): Logger => {
  const value: unknown = c.get("log");
  return value === undefined ? fallback : (value as Logger);
};
