import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Context, Hono } from "hono";
import { notFound } from "../http/errors.js";
import { requestHeader } from "../http/headers.js";

/**
 * `/console` (CONTRACT §9): the operators' page, hand-written files of the repository's top-level
 * `console/` folder. It is two levels above this module both as `src/console/routes.ts` (tsx)
 * and as `dist/console/routes.js` (the build; tsc copies no other file, so the folder lives
 * outside src/ and the image copies it beside dist/).
 */
export const CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));

/** The page runs under a policy that allows its own origin only and no inline code or style. */
export const CONSOLE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

type Asset = { bytes: Uint8Array<ArrayBuffer>; type: string; etag: string };

/**
 * Every servable file of the folder, read once when the app is made: a few KB, and a folder
 * missing from a build or an image fails the start instead of the first visit.
 */
const readAssets = (dir: string): Map<string, Asset> => {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (type === undefined) continue;
    const bytes = new Uint8Array(readFileSync(path.join(dir, name)));
    const hash = createHash("sha256").update(bytes).digest("base64url").slice(0, 22);
    assets.set(name, { bytes, type, etag: `"${hash}"` });
  }
  if (!assets.has("index.html")) throw new Error(`no index.html in ${dir}`);
  return assets;
};

/** `If-None-Match` is a list of tags, weak or strong, or `*`. */
const matchesTag = (header: string | undefined, etag: string) =>
  (header ?? "").split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });

/**
 * Mounted at `/console`. The files hold no data, so they need no token; the data comes from
 * `/v1` with the token the page keeps. `no-cache` with an ETag: a browser revalidates every
 * file and a new release shows at the next load, for a 304 when nothing changed.
 */
export const consoleRoutes = (dir: string = CONSOLE_DIR) => {
  const assets = readAssets(dir);
  const answer = (c: Context, name: string) => {
    const asset = assets.get(name);
    if (asset === undefined) return notFound(c);
    c.header("ETag", asset.etag);
    c.header("Cache-Control", "no-cache");
    if (matchesTag(requestHeader(c, "if-none-match"), asset.etag)) return c.body(null, 304);
    c.header("Content-Type", asset.type);
    return c.body(asset.bytes);
  };
  return (
    new Hono()
      // Every answer under /console, a 404 included, carries the policy.
      .use("*", async (c, next) => {
        c.header("Content-Security-Policy", CONSOLE_POLICY);
        c.header("X-Content-Type-Options", "nosniff");
        await next();
      })
      .get("/", (c) => answer(c, "index.html"))
      .get("/:name", (c) => answer(c, c.req.param("name")))
  );
};
