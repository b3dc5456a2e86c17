import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { type Service, useHarness } from "../test/helpers/harness.js";
import { TEST_TOKEN } from "../test/helpers/readiness.js";

const readDoc = (path: string) => readFile(new URL(`../${path}`, import.meta.url), "utf8");

/** Every `` `METHOD /path` `` the text names, as "METHOD /path" (query strings dropped). */
const routesNamed = (markdown: string): Set<string> =>
  new Set(
    [...markdown.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^\s`?]*)/g)].map(
      ([, method, path]) => `${method} ${path}`,
    ),
  );

/**
 * docs/api.md is written by hand; /openapi.json follows the code. This keeps them together: a
 * route the service declares and the document leaves out, or a route the document names that
 * the service does not serve, fails here.
 */
describe("docs/api.md", () => {
  const harness = useHarness({}, { role: "api" });
  let service: Service;
  beforeAll(() => {
    service = harness().service;
  });

  const openApiRoutes = async (): Promise<Set<string>> => {
    const response = await fetch(`${service.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    return new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
  };

  it("documents every route of the OpenAPI document", async () => {
    const declared = await openApiRoutes();
    const documented = routesNamed(await readDoc("docs/api.md"));
    expect(declared.size).toBeGreaterThan(0);
    expect([...declared].filter((route) => !documented.has(route)).sort()).toEqual([]);
  });

  it("names no route the service does not serve", async () => {
    const declared = await openApiRoutes();
    const documented = routesNamed(await readDoc("docs/api.md"));
    const unserved: string[] = [];
    for (const route of documented) {
      if (declared.has(route)) continue;
      // Outside the OpenAPI document (probes, the webhook, the dashboard): ask the service.
      const [method = "GET", path = "/"] = route.split(" ");
      const response = await fetch(
        `${service.url}${path.replaceAll(/\{[^}]+\}/g, () => randomUUID())}`,
        { method, headers: { Authorization: `Bearer ${TEST_TOKEN}` }, redirect: "manual" },
      );
      const body = await response.text();
      if (response.status === 404 && body.includes("no route for")) unserved.push(route);
    }
    expect(unserved).toEqual([]);
  });
});

describe("README.md", () => {
  it("stays a first read: at most 14 KiB, and nothing outside the repository", async () => {
    const readme = await readDoc("README.md");
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(14_336);
    expect(readme).not.toContain("../");
  });
});
