import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, codeToStatus, errorBody } from "../errors.js";
import type { Logger } from "../log.js";
import { requestLogger } from "./request-log.js";
import { setRetryAfter } from "./unavailable.js";

/**
 * The one place an error becomes an HTTP answer; only 5xx are logged as errors.
 * `isUnavailable` tells an error that says a dependency could not be reached (the composition
 * root passes the database's classifier: http/ knows no feature).
 */
export const createOnError =
  (log: Logger, isUnavailable: (error: unknown) => boolean = () => false) =>
  (error: Error, c: Context) => {
    if (error instanceof AppError) {
      const status = codeToStatus(error.code);
      if (status >= 500)
        requestLogger(c, log).error({ err: error, path: c.req.path }, "request failed");
      if (status === 503) setRetryAfter(c);
      return c.json(errorBody(error.code, error.message, error.field), status);
    }
    if (isUnavailable(error)) {
      // Postgres unreachable or the connection lost: the request may well succeed in a moment
      // (docs/api.md), classified by the driver's code, never by its message.
      requestLogger(c, log).warn({ err: error, path: c.req.path }, "database unreachable");
      setRetryAfter(c);
      return c.json(errorBody("service_unavailable", "database unreachable, retry shortly"), 503);
    }
    if (error instanceof HTTPException && error.status < 500) {
      // Hono raises these for malformed requests it parses itself (a JSON body that is not JSON).
      return c.json(errorBody("invalid_request", error.message || "malformed request"), 400);
    }
    requestLogger(c, log).error({ err: error, path: c.req.path }, "unhandled error");
    return c.json(errorBody("internal_error", "internal error"), 500);
  };

export const notFound = (c: Context) =>
  c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);
