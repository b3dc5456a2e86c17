import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSecret, serviceEnv } from "../../test/helpers/harness.js";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.js";
import { TEST_TOKEN } from "../../test/helpers/readiness.js";
import { dropPrefix, testPrefix } from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { type RunningService, startService } from "../main.js";

/** `{"acs_user_ids":[0,0,…]}` of `count` zeros: two bytes an element, none of them an id. */
const zeros = (count: number) => `{"acs_user_ids":[${new Array(count).fill("0").join(",")}]}`;

describe("request bodies on /v1 and /admin (CONTRACT §5)", () => {
  const prefix = testPrefix();
  let database: TestDatabase;
  let service: RunningService;
  beforeAll(async () => {
    database = await createTestDatabase({ max: 2 });
    const env = serviceEnv({
      databaseUrl: database.url,
      prefix,
      secret: createTestSecret(),
      role: "api",
    });
    service = await startService(
      loadConfig({ ...env, API_TOKENS: TEST_TOKEN }),
      createLogger("silent"),
    );
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200);
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
    await dropPrefix(prefix);
  });
  const send = (path: string, body: string | ReadableStream<Uint8Array>, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, {
      method: "PUT",
      body,
      ...init,
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        "content-type": "application/json",
        ...init.headers,
      },
    });
  const resources = () => `/v1/user_identities/${randomUUID()}/resources`;

  it("refuses a body over 1 MiB by its Content-Length with 413 payload_too_large, at once", async () => {
    const started = performance.now();
    const response = await send(resources(), zeros(1_000_000));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "payload_too_large" } });
    // Before: 11 s and 2.9 GB to a 400. A generous bound; the point is that nothing was parsed.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("refuses a chunked body once it passes 1 MiB", async () => {
    const chunk = new TextEncoder().encode(`${"0,".repeat(32 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode('{"acs_user_ids":[')),
      pull: (controller) => {
        // 4 MiB at most, whatever the server does, so the test ends either way.
        if (sent >= 4 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await send(resources(), body, { duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("refuses an oversized body on /admin too, and before the token is looked at", async () => {
    const admin = await send("/admin/dead-letters/retry", zeros(1_000_000), { method: "POST" });
    expect(admin.status).toBe(413);
    const anonymous = await fetch(`${service.url}${resources()}`, {
      method: "PUT",
      body: zeros(1_000_000),
      headers: { "content-type": "application/json" },
    });
    expect(anonymous.status).toBe(413);
  });

  it("refuses a list of more than 1,000 ids with a 400 without validating its elements, the event loop free", async () => {
    // 900 KB: under the body limit, 450 times the list limit; each zero fails the UUID check.
    const body = zeros(450_000);
    expect(body.length).toBeLessThan(1024 * 1024);
    const started = performance.now();
    const answer = send(resources(), body);
    // Sent while the 400 is being worked out: before, zod made 450,000 issues (seconds of CPU).
    const probeStarted = performance.now();
    await waitFor(async () => (await fetch(`${service.url}/healthz`)).ok);
    const probeMs = performance.now() - probeStarted;
    const response = await answer;
    const elapsed = performance.now() - started;
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: "invalid_request", field: "acs_user_ids" },
    });
    expect(elapsed).toBeLessThan(1000);
    expect(probeMs).toBeLessThan(500);
  });

  it("still takes a list of 1,000 ids", async () => {
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const response = await send(resources(), JSON.stringify({ acs_user_ids: ids }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { blockers: unknown[] }).blockers).toHaveLength(1000);
  });
});
