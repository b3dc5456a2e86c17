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
 * What @hono/zod-openapi takes for JSON when a route's body is optional: it checks the header
 * as sent, case-sensitively, and without digits before `+json`; any other body is skipped
 * unvalidated and the handler gets `{}` (node_modules/@hono/zod-openapi, isJSONContentType).
 */
const OPTIONAL_BODY_JSON = /^application\/([a-z-.]+\+)?json/;

/**
 * For a route whose body is optional (after requireJsonBody), so that every JSON body is read
 * and no body is `{}`:
 * - no body (none declared, or a length of 0), whatever the Content-Type, is `{}`: the validator
 *   would otherwise parse the empty text and answer 400 "Malformed JSON";
 * - a chunked body that turns out empty is `{}` too (it is read through limitBody's count);
 * - a JSON body whose Content-Type @hono/zod-openapi would not take for JSON (`Application/JSON`,
 *   `application/vnd.v2+json`) was handed over as `{}` and its lists silently dropped: its
 *   Content-Type is given to the validator as `application/json`.
 * Hono reads a body through `bodyCache`, which keeps the promise of each form of the body (its
 * type says the value; its code, the validator's included, stores and awaits the promise).
 */
export const optionalJsonBody: MiddlewareHandler = async (c, next) => {
  const cache = c.req.bodyCache as { text?: Promise<string> };
  if (!sendsBody(c)) {
    cache.text = Promise.resolve("{}");
    return next();
  }
  if (!OPTIONAL_BODY_JSON.test(c.req.header("content-type") ?? "")) {
    c.req.raw.headers.set("content-type", "application/json");
  }
  if (requestHeader(c, "transfer-encoding") !== undefined) {
    cache.text = c.req.text().then((text) => (text === "" ? "{}" : text));
  }
  await next();
};
