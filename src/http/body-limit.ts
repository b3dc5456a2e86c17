import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.js";
import { requestHeader } from "./headers.js";

/** docs/api.md: a request body to `/v1` or `/admin` over this many bytes is refused. */
const API_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * `413 payload_too_large` for a body over `limit` bytes, before any more of it is read: by its
 * Content-Length first (Node never passes on more bytes than a request declares), then, with
 * `counting`, for a chunked body by counting the bytes as they come (hono's bodyLimit, which
 * stops reading past the limit). The rest of a refused body is drained and dropped by
 * @hono/node-server, never kept.
 *
 * `counting` reads a chunked body before the route runs, so it belongs on the routes that read
 * a body anyway: on every route it would make one that never reads (a 404, a GET) wait for a
 * body that may never end. Elsewhere a chunked body is passed on unread, and dropped after.
 *
 * A request that declares no body (every GET, a long-poll) is passed on untouched: hono's
 * bodyLimit would ask for `c.req.raw.body`, which builds the whole fetch Request (about 5 KB
 * that a waiter would keep for its wait, src/waiters/client-signal.ts).
 */
export const limitBody = (
  options: { limit?: number; counting?: boolean } = {},
): MiddlewareHandler => {
  const limit = options.limit ?? API_BODY_LIMIT_BYTES;
  const tooLarge = () => {
    throw new AppError("payload_too_large", `request body larger than ${limit} bytes`);
  };
  const counting = bodyLimit({ maxSize: limit, onError: tooLarge });
  return async (c, next) => {
    if (requestHeader(c, "transfer-encoding") !== undefined) {
      return options.counting ? counting(c, next) : next();
    }
    const declared = requestHeader(c, "content-length");
    if (declared !== undefined && Number(declared) > limit) tooLarge();
    return next();
  };
};
