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
  if (!sendsBody(c)) return next();
  const type = requestHeader(c, "content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new AppError("invalid_request", "send the body as JSON (Content-Type: application/json)");
  }
  // JSON is UTF-8 (RFC 8259 §8.1) and the body is read as UTF-8 whatever the header says: a
  // body declared in another charset would be read as something else than what was sent.
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new AppError("invalid_request", "send the body as JSON in UTF-8 (charset=utf-8)");
  }
  await next();
};

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/**
 * For a route whose body is optional: a request with a JSON Content-Type and no body (a length
 * of 0) is read as no body, `{}`, as one without the header is. The validator would otherwise
 * parse the empty text as JSON and answer 400 "Malformed JSON". Hono reads a body through
 * `bodyCache`, so the empty body is given there as `{}`.
 */
export const emptyBodyIsNone: MiddlewareHandler = async (c, next) => {
  // Hono keeps the promise of each form of the body there (its type says the value; its code,
  // the validator's included, stores and awaits the promise).
  if (!sendsBody(c)) (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve("{}");
  await next();
};
