import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../errors.js";
import { requestHeader } from "./headers.js";

/** What a request's token allows: `read` for an API token, `admin` for an admin token. */
type Access = "read" | "admin";

declare module "hono" {
  interface ContextVariableMap {
    access: Access;
    /** The token bearerAuth accepted: whose share of the waiter limits a request takes. */
    token: string;
  }
}

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

/** Every candidate is compared, whether or not one matched before. */
const matchesAny = (candidates: Buffer[], presented: Buffer): boolean => {
  let ok = false;
  for (const candidate of candidates) ok = timingSafeEqual(candidate, presented) || ok;
  return ok;
};

/**
 * `Authorization: Bearer <token>` against every configured token (rotation: any may match).
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the content nor the
 * length of a token leaks through timing, and every token is compared on every request.
 *
 * `adminTokens` are accepted too and mark the request `admin` (`c.get("access")`); the others
 * are `read`. With `allowBasic` (the Bull Board pages, opened in a browser), HTTP Basic with the
 * token as the password is accepted too, and a 401 asks the browser to prompt for it.
 */
export const bearerAuth = (
  tokens: string[],
  options: { allowBasic?: boolean; adminTokens?: string[] } = {},
): MiddlewareHandler => {
  const expected = tokens.map(digest);
  const admins = (options.adminTokens ?? []).map(digest);
  const allowBasic = options.allowBasic ?? false;
  return async (c, next) => {
    const token = presentedToken(requestHeader(c, "authorization") ?? "", allowBasic);
    const presented = digest(token ?? "");
    const read = matchesAny(expected, presented);
    const admin = matchesAny(admins, presented);
    if (token === undefined || !(read || admin)) {
      c.header(
        "WWW-Authenticate",
        allowBasic ? 'Basic realm="seam-projector admin"' : 'Bearer realm="seam-projector"',
      );
      throw new AppError(
        "unauthorized",
        token === undefined ? "missing bearer token" : "unknown bearer token",
      );
    }
    c.set("access", admin ? "admin" : "read");
    c.set("token", token);
    await next();
  };
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A browser names the site a request comes from in `Sec-Fetch-Site`, which no page can set or
 * forge; older browsers send only `Origin`, compared with the host asked for. A request with
 * neither comes from no browser (curl, a script) and cannot ride on a cached Basic sign-in.
 */
const fromAnotherSite = (c: Context): boolean => {
  const site = requestHeader(c, "sec-fetch-site");
  if (site !== undefined) return site !== "same-origin" && site !== "none";
  const origin = requestHeader(c, "origin");
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== requestHeader(c, "host");
  } catch {
    return true; // `Origin: null` (a sandboxed frame, a redirect) or garbage
  }
};

/**
 * After bearerAuth: a request that changes state (any method but GET, HEAD, OPTIONS) needs an
 * admin token and must not come from another site, where a browser would add the Basic
 * credentials it caches for the admin pages. Reads are open to every token.
 */
export const adminWritesOnly = (): MiddlewareHandler => async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    if (fromAnotherSite(c)) throw new AppError("forbidden", "cross-site admin request refused");
    if (c.get("access") !== "admin") {
      throw new AppError("forbidden", "this admin action needs a token of ADMIN_TOKENS");
    }
  }
  await next();
};
