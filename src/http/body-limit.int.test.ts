import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { rawExchange } from "../../test/helpers/raw-http.js";
import { TEST_TOKEN } from "../../test/helpers/readiness.js";

/** `{"acs_user_ids":[0,0,…]}` of `count` zeros: two bytes an element, none of them an id. */
const zeros = (count: number) => `{"acs_user_ids":[${new Array(count).fill("0").join(",")}]}`;

describe("request bodies on /v1 and /admin (CONTRACT §5)", () => {
  const harness = useHarness({}, { role: "api" });
  let service: Service;
  beforeAll(() => {
    service = harness().service;
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
    const response = await send(resources(), zeros(1_000_000));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "payload_too_large" } });
    // Before: 11 s and 2.9 GB to a 400. The same head with no body after it: the 413 can only
    // come from the Content-Length, since there is nothing to read.
    const head = [
      `PUT ${resources()} HTTP/1.1`,
      `host: ${new URL(service.url).host}`,
      `authorization: Bearer ${TEST_TOKEN}`,
      "content-type: application/json",
      `content-length: ${zeros(1_000_000).length}`,
    ].join("\r\n");
    const unread = await rawExchange(service.url, { parts: [`${head}\r\n\r\n`] });
    expect(unread).toMatchObject({ status: 413, incomplete: false });
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

  it("refuses a list of more than 1,000 ids with a 400 naming the list", async () => {
    // 900 KB: under the body limit, 450 times the list limit; each zero fails the UUID check.
    // That no element is validated (before, 450,000 issues: seconds of CPU) is
    // src/readiness/schemas.unit.test.ts's to show, without a clock.
    const body = zeros(450_000);
    expect(body.length).toBeLessThan(1024 * 1024);
    const response = await send(resources(), body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: "invalid_request", field: "acs_user_ids" },
    });
  });

  it("still takes a list of 1,000 ids", async () => {
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const response = await send(resources(), JSON.stringify({ acs_user_ids: ids }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { blockers: unknown[] }).blockers).toHaveLength(1000);
  });
});
