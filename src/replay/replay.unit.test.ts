import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { createVerifier } from "../ingest/verify.js";
import { FixtureError, parseFixture } from "./fixture.js";
import { planDeliveries, REPLAY_SOURCE_HEADER, replay } from "./replay.js";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const verify = createVerifier([secret], () => new Date());

type Received = { body: string; svixId: string; source: string | undefined; verified: boolean };
type Answer = (
  received: Received,
  index: number,
) => { status: number; headers?: object; body?: string };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** A receiver on 127.0.0.1 that checks each signature with the service's own verifier. */
const startReceiver = async (answer: Answer = () => ({ status: 202 })) => {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const header = (name: string) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const entry: Received = {
        body,
        svixId: header("svix-id") ?? "",
        source: header(REPLAY_SOURCE_HEADER),
        verified: verify(body, header).ok,
      };
      received.push(entry);
      const { status, headers, body: reply } = answer(entry, received.length - 1);
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(reply ?? JSON.stringify({ ok: true }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/seam`, received };
};

const makeFixture = (count: number) =>
  parseFixture(
    Array.from({ length: count }, (_, index) =>
      JSON.stringify({ event_id: randomUUID(), event_type: "device.connected", index }),
    ).join("\n"),
  );

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5 };

describe("replay", () => {
  test("posts each line as is, signed, marked as a replay", async () => {
    const receiver = await startReceiver();
    const fixture = makeFixture(5);
    const summary = await replay(fixture, { url: receiver.url, secret });
    expect(summary).toEqual({
      total: 5,
      sent: 5,
      accepted: 5,
      retried: 0,
      failed: 0,
      skipped: 0,
      failures: [],
    });
    expect(receiver.received.map((r) => r.body).sort()).toEqual(fixture.map((e) => e.body).sort());
    expect(receiver.received.every((r) => r.verified && r.source === "replay")).toBe(true);
  });

  test("--duplicate delivers every event N times, each a delivery of its own", async () => {
    const receiver = await startReceiver();
    const fixture = makeFixture(4);
    const summary = await replay(fixture, { url: receiver.url, secret, duplicate: 3 });
    expect(summary).toMatchObject({ total: 12, accepted: 12 });
    for (const event of fixture) {
      const copies = receiver.received.filter((r) => r.body === event.body);
      expect(copies).toHaveLength(3);
      expect(new Set(copies.map((r) => r.svixId)).size).toBe(3);
    }
  });

  test("retries a 503 with the same svix-id, honouring Retry-After, then counts it accepted", async () => {
    const receiver = await startReceiver((_, index) =>
      index < 2
        ? {
            status: 503,
            headers: { "retry-after": "0" },
            body: '{"error":{"code":"queue_unavailable","message":"x"}}',
          }
        : { status: 202 },
    );
    const progress: number[] = [];
    const summary = await replay(makeFixture(1), {
      url: receiver.url,
      secret,
      retry: fastRetry,
      onProgress: (p) => progress.push(p.retried),
    });
    expect(summary).toMatchObject({ sent: 3, accepted: 1, retried: 2, failed: 0 });
    expect(new Set(receiver.received.map((r) => r.svixId)).size).toBe(1);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect(progress).toEqual([0, 1, 2]);
  });

  test("gives up on a 4xx at once, with the service's error code and message", async () => {
    const receiver = await startReceiver(() => ({
      status: 401,
      body: '{"error":{"code":"invalid_signature","message":"no signature matches a configured secret"}}',
    }));
    const fixture = makeFixture(3);
    const summary = await replay(fixture, {
      url: receiver.url,
      secret,
      concurrency: 1,
      stopOnFailure: true,
    });
    expect(summary).toMatchObject({ sent: 1, accepted: 0, failed: 1, skipped: 2, retried: 0 });
    expect(summary.failures).toEqual([
      {
        eventId: fixture[0]?.eventId,
        line: 1,
        status: 401,
        message: "401 invalid_signature: no signature matches a configured secret",
      },
    ]);
  });

  test("retries a refused connection, then reports it after the last try", async () => {
    const receiver = await startReceiver();
    const url = receiver.url;
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    const summary = await replay(makeFixture(1), {
      url,
      secret,
      retry: { ...fastRetry, attempts: 3 },
    });
    expect(summary).toMatchObject({ sent: 3, retried: 2, failed: 1, accepted: 0 });
    expect(summary.failures[0]?.message).toBe(
      "connection failed (ECONNREFUSED); gave up after 3 tries",
    );
  });

  test("--rate spaces the deliveries out", async () => {
    const receiver = await startReceiver();
    const started = performance.now();
    await replay(makeFixture(6), { url: receiver.url, secret, rate: 50, concurrency: 6 });
    // Six deliveries at 50/s: the last may start 5 × 20 ms after the first, not before.
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(receiver.received).toHaveLength(6);
  });
});

describe("planDeliveries", () => {
  const fixture = makeFixture(20);

  test("in file order by default, copies side by side", () => {
    const plan = planDeliveries(fixture.slice(0, 2), { duplicate: 2 });
    expect(plan.map((d) => [d.event.line, d.copy])).toEqual([
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
  });

  test("a seeded shuffle is a permutation, the same for the same seed", () => {
    const first = planDeliveries(fixture, { shuffle: true, seed: 7, duplicate: 2 });
    const again = planDeliveries(fixture, { shuffle: true, seed: 7, duplicate: 2 });
    const other = planDeliveries(fixture, { shuffle: true, seed: 8, duplicate: 2 });
    const lines = (plan: typeof first) => plan.map((d) => d.event.line);
    expect(lines(again)).toEqual(lines(first));
    expect(lines(other)).not.toEqual(lines(first));
    expect(lines(first)).not.toEqual(lines(planDeliveries(fixture, { duplicate: 2 })));
    expect([...lines(first)].sort((a, b) => a - b)).toEqual(
      lines(planDeliveries(fixture, { duplicate: 2 })),
    );
  });
});

describe("parseFixture", () => {
  test("names the line that is not JSON", () => {
    expect(() => parseFixture('{"event_id":"a"}\n{oops\n', "f.jsonl")).toThrow(
      /^f\.jsonl:2: not valid JSON/,
    );
  });

  test("names the line that is not an object, or has no event_id", () => {
    expect(() => parseFixture('{"event_id":"a"}\n\n[1]', "f.jsonl")).toThrow(
      new FixtureError("f.jsonl:3: expected a JSON object, one event a line"),
    );
    expect(() => parseFixture('{"event_type":"x"}', "f.jsonl")).toThrow(
      new FixtureError("f.jsonl:1: event_id must be a non-empty string"),
    );
  });

  test("keeps each line's exact text, skipping blank lines and CRLF endings", () => {
    const events = parseFixture('{"event_id": "a" }\r\n\n{"event_id":"b"}\n');
    expect(events).toEqual([
      { line: 1, eventId: "a", body: '{"event_id": "a" }' },
      { line: 3, eventId: "b", body: '{"event_id":"b"}' },
    ]);
  });

  test("an empty file is an error, not a replay of nothing", () => {
    expect(() => parseFixture("\n\n", "f.jsonl")).toThrow("f.jsonl: no events");
  });
});
