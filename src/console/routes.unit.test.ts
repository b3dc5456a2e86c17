import { readFileSync } from "node:fs";
import path from "node:path";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { notFound } from "../http/errors.js";
import { CONSOLE_DIR, CONSOLE_POLICY, consoleRoutes } from "./routes.js";

/** Mounted as app.ts mounts it, with the app's own 404. */
const app = new Hono().route("/console", consoleRoutes());
app.notFound(notFound);

const HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

const headersOf = (response: Response) => ({
  "content-security-policy": response.headers.get("content-security-policy"),
  "x-content-type-options": response.headers.get("x-content-type-options"),
});

describe("/console", () => {
  it("serves the page and its files from console/, without a token, under the policy", async () => {
    expect(CONSOLE_POLICY).toBe(HEADERS["content-security-policy"]);
    const page = await app.request("/console");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(headersOf(page)).toEqual(HEADERS);
    const html = await page.text();
    expect(html).toBe(readFileSync(path.join(CONSOLE_DIR, "index.html"), "utf8"));
    expect(html).toContain('<meta name="viewport" content="width=device-width">');
    // Nothing inline for the policy to refuse: scripts and sheets are files of ours.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/console\/)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);

    const script = await app.request("/console/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(headersOf(script)).toEqual(HEADERS);
    const sheet = await app.request("/console/app.css");
    expect(sheet.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("answers a matching If-None-Match with 304 and a changed one with the file", async () => {
    const first = await app.request("/console/app.js");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const again = await app.request("/console/app.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(headersOf(again)).toEqual(HEADERS);
    const weak = await app.request("/console/app.js", {
      headers: { "if-none-match": `"other", W/${etag}` },
    });
    expect(weak.status).toBe(304);
    const stale = await app.request("/console/app.js", { headers: { "if-none-match": '"old"' } });
    expect(stale.status).toBe(200);
    // Each file its own tag.
    expect((await app.request("/console/app.css")).headers.get("etag")).not.toBe(etag);
  });

  it("answers a file it does not have with the 404 envelope, under the policy too", async () => {
    for (const url of ["/console/nope.js", "/console/a/b", "/console/..%2Fpackage.json"]) {
      const response = await app.request(url);
      expect(response.status, url).toBe(404);
      expect(headersOf(response), url).toEqual(HEADERS);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });
});
