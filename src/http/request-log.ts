import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../log.js";
import { UUID } from "../shared/ids.js";

declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
  }
}

/**
 * The caller's `X-Request-Id` only when it is a UUID, else a new one. Any other text could be
 * a secret (a client that sends its token there), and the id is logged on every line.
 */
const requestIdOf = (header: string | undefined): string =>
  header !== undefined && UUID.test(header) ? header.toLowerCase() : randomUUID();

/** Probes and scrapes arrive every few seconds; at `info` they would bury everything else. */
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is a UUID, else a new UUID,
 * echoed in the answer as `X-Request-Id`) and a child logger that carries it, so every line
 * logged while serving the request names it. The closing line records method, path, status and duration:
 * never headers, query strings or bodies, where tokens and signatures live.
 */
export const requestLogging = (log: Logger): MiddlewareHandler[] => [
  async (c, next) => {
    const id = requestIdOf(c.req.header("x-request-id"));
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    const requestLog = log.child({ requestId: id });
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
