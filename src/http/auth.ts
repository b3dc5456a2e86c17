import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** The token a request presents, or undefined when it presents none in an accepted scheme. */
const presentedToken = (header: string, allowBasic: boolean): string | undefined => {
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (bearer) return bearer[1];
  if (!allowBasic) return undefined;
  const basic = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!basic?.[1]) return undefined;
  // Any user name; the password is the token (what a browser's sign-in prompt can send).
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
};

/**
 * `Authorization: Bearer <token>` against every configured token (rotation: any may match).
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the content nor the
 * length of a token leaks through timing, and every token is compared on every request.
 *
 * With `allowBasic` (the Bull Board pages, opened in a browser), HTTP Basic with the token as
 * the password is accepted too, and a 401 asks the browser to prompt for it.
 */
export const bearerAuth = (
  tokens: string[],
  options: { allowBasic?: boolean } = {},
): MiddlewareHandler => {
  const expected = tokens.map(digest);
  const allowBasic = options.allowBasic ?? false;
  return async (c, next) => {
    const token = presentedToken(c.req.header("authorization") ?? "", allowBasic);
    const presented = digest(token ?? "");
    let ok = false;
    for (const candidate of expected) ok = timingSafeEqual(candidate, presented) || ok;
    if (token === undefined || !ok) {
      c.header(
        "WWW-Authenticate",
        allowBasic ? 'Basic realm="seam-projector admin"' : 'Bearer realm="seam-projector"',
      );
      throw new AppError(
        "unauthorized",
        token === undefined ? "missing bearer token" : "unknown bearer token",
      );
    }
    await next();
  };
};
