import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * `Authorization: Bearer <token>` against every configured token (rotation: any may match).
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the content nor the
 * length of a token leaks through timing, and every token is compared on every request.
 */
export const bearerAuth = (tokens: string[]): MiddlewareHandler => {
  const expected = tokens.map(digest);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const presented = digest(match?.[1] ?? "");
    let ok = false;
    for (const token of expected) ok = timingSafeEqual(token, presented) || ok;
    if (match === null || !ok) {
      c.header("WWW-Authenticate", 'Bearer realm="seam-projector"');
      throw new AppError(
        "unauthorized",
        match === null ? "missing bearer token" : "unknown bearer token",
      );
    }
    await next();
  };
};
