import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";
import { requestHeader } from "./headers.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Whether the request carries a body at all (a length above 0, or chunks). A route whose body
 * is required checks it: Hono's JSON validator reads no body as `{}`.
 */
export const sendsBody = (c: Parameters<MiddlewareHandler>[0]) => {
  const length = requestHeader(c, "content-length");
  return (
    (length !== undefined && length !== "0") || requestHeader(c, "transfer-encoding") !== undefined
  );
};

/**
 * A body sent as anything but JSON is refused. Hono's JSON validator would otherwise treat it
 * as `{}` (curl's `-d` sends form encoding by default), and the request would succeed while
 * linking nothing.
 */
export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  if (sendsBody(c) && !JSON_TYPE.test(requestHeader(c, "content-type") ?? "")) {
    throw new AppError("invalid_request", "send the body as JSON (Content-Type: application/json)");
  }
  await next();
};
