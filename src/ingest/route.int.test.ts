import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createHarness,
  type Service,
  startHarness,
  useHarness,
} from "../../test/helpers/harness.js";
import { freePort } from "../../test/helpers/process.js";
import { type RedisServer, startRedisServer } from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { signBody } from "../replay/sign.js";
import { jobIdFor } from "./queue.js";

const TEST_SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXNlYW0tcHJvamVjdG9y";
const OTHER_SECRET = "whsec_b3RoZXItc2VjcmV0LWZvci1yb3RhdGlvbi10ZXN0cw==";

const seamEvent = (overrides: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  event_type: "acs_credential.deleted",
  workspace_id: randomUUID(),
  created_at: "2026-11-28T10:00:00.000Z",
  occurred_at: "2026-11-28T10:00:00.000Z",
  acs_system_id: randomUUID(),
  acs_credential_id: randomUUID(),
  ...overrides,
});

/**
 * Posts to the webhook route as production runs it: through the Node server (src/http/server.ts)
 * of an API process listening on 127.0.0.1, so the body arrives as a Node stream.
 */
const post = (
  service: Service,
  body: string | ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  init: { duplex?: "half" } = {},
) =>
  fetch(service.webhookUrl, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
    ...init,
  } as RequestInit);

const errorCode = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;

describe("POST /webhooks/seam", () => {
  const api = useHarness(
    {
      secret: TEST_SECRET,
      env: {
        SEAM_WEBHOOK_SECRET: `${OTHER_SECRET},${TEST_SECRET}`,
        WEBHOOK_BODY_LIMIT_BYTES: "4096",
      },
    },
    { role: "api" },
  );

  it("answers 202 and leaves the event in Redis as the job's data", async () => {
    const event = seamEvent();
    const body = JSON.stringify(event);
    const response = await post(api().service, body, signBody(TEST_SECRET, body));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ok: true });
    const job = await api().queue.queue.getJob(jobIdFor(event.event_id, body));
    expect(job?.data.body).toBe(body);
    expect(job?.data.eventId).toBe(event.event_id);
    expect(job?.data.source).toBe("webhook");
  });

  it("answers 202 to a duplicate and keeps one job", async () => {
    const event = seamEvent();
    const body = JSON.stringify(event);
    expect((await post(api().service, body, signBody(TEST_SECRET, body))).status).toBe(202);
    expect((await post(api().service, body, signBody(TEST_SECRET, body))).status).toBe(202);
    const counts = await api().queue.queue.getJobs(["waiting"]);
    expect(counts.filter((job) => job.data.eventId === event.event_id)).toHaveLength(1);
  });

  it("hashes an event id BullMQ could not use as a job id", async () => {
    const event = seamEvent({ event_id: "evt:with:colons" });
    const body = JSON.stringify(event);
    expect((await post(api().service, body, signBody(TEST_SECRET, body))).status).toBe(202);
    expect((await api().queue.queue.getJob(jobIdFor("evt:with:colons", body)))?.data.eventId).toBe(
      "evt:with:colons",
    );
  });

  it("accepts the second secret of the rotation list and webhook-* headers", async () => {
    const body = JSON.stringify(seamEvent());
    const signed = signBody(OTHER_SECRET, body);
    const response = await post(api().service, body, {
      "webhook-id": signed["svix-id"],
      "webhook-timestamp": signed["svix-timestamp"],
      "webhook-signature": signed["svix-signature"],
    });
    expect(response.status).toBe(202);
  });

  describe("401 invalid_signature", () => {
    const body = JSON.stringify(seamEvent(), null, 2);
    const good = signBody(TEST_SECRET, body);
    const cases: [string, string, Record<string, string>][] = [
      ["no svix-id", body, { ...good, "svix-id": "" }],
      ["no svix-timestamp", body, { ...good, "svix-timestamp": "" }],
      ["no svix-signature", body, { ...good, "svix-signature": "" }],
      ["a wrong secret", body, signBody("whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==", body)],
      ["one byte changed", body.replace('"event_type"', '"event_typf"'), good],
      ["one space added", `${body} `, good],
      ["the JSON re-serialised", JSON.stringify(JSON.parse(body)), good],
      [
        "a truncated signature",
        body,
        { ...good, "svix-signature": good["svix-signature"].slice(0, -4) },
      ],
      [
        "a timestamp 6 minutes old",
        body,
        signBody(TEST_SECRET, body, { at: new Date(Date.now() - 360_000) }),
      ],
      [
        "a timestamp 6 minutes ahead",
        body,
        signBody(TEST_SECRET, body, { at: new Date(Date.now() + 360_000) }),
      ],
    ];
    for (const [name, sent, headers] of cases) {
      it(`for ${name}`, async () => {
        const cleaned = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ""));
        const response = await post(api().service, sent, cleaned);
        expect(response.status).toBe(401);
        expect(await errorCode(response)).toBe("invalid_signature");
      });
    }

    it("but 202 for decoy signatures beside a good one", async () => {
      const decoyed = `v1,${Buffer.alloc(32).toString("base64")} ${good["svix-signature"]} v1,not-base64`;
      const response = await post(api().service, body, { ...good, "svix-signature": decoyed });
      expect(response.status).toBe(202);
    });
  });

  describe("400 invalid_payload, once the signature holds", () => {
    const cases: [string, string, string | undefined][] = [
      ["a body that is not JSON", "event_id=1", undefined],
      ["a JSON array", JSON.stringify([seamEvent()]), undefined],
      ["a JSON string", JSON.stringify("hello"), undefined],
      ["no event_id", JSON.stringify({ ...seamEvent(), event_id: undefined }), "event_id"],
      ["a numeric event_id", JSON.stringify({ ...seamEvent(), event_id: 42 }), "event_id"],
      ["no occurred_at", JSON.stringify({ ...seamEvent(), occurred_at: undefined }), "occurred_at"],
      [
        "no workspace_id",
        JSON.stringify({ ...seamEvent(), workspace_id: undefined }),
        "workspace_id",
      ],
    ];
    for (const [name, body, field] of cases) {
      it(`for ${name}`, async () => {
        const response = await post(api().service, body, signBody(TEST_SECRET, body));
        expect(response.status).toBe(400);
        const json = (await response.json()) as {
          error: { code: string; field?: string; message: string };
        };
        expect(json.error.code).toBe("invalid_payload");
        expect(json.error.field).toBe(field);
        expect(json.error.message.length).toBeGreaterThan(0);
      });
    }

    it("but 401 for the same payload unsigned: signature is checked first", async () => {
      const response = await post(api().service, "[]", {});
      expect(response.status).toBe(401);
    });
  });

  describe("413 payload_too_large, before anything else", () => {
    const big = JSON.stringify(seamEvent({ padding: "x".repeat(5000) }));

    it("when Content-Length says so, even unsigned", async () => {
      const response = await post(api().service, big, {
        "content-length": String(Buffer.byteLength(big)),
      });
      expect(response.status).toBe(413);
      expect(await errorCode(response)).toBe("payload_too_large");
    });

    it("when a streamed body without Content-Length grows past the limit", async () => {
      const chunks = [big.slice(0, 3000), big.slice(3000)];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      });
      const response = await post(api().service, stream, signBody(TEST_SECRET, big), {
        duplex: "half",
      });
      expect(response.status).toBe(413);
    });
  });
});

describe("503 queue_unavailable", () => {
  const expectFast503 = async (service: Service) => {
    const body = JSON.stringify(seamEvent());
    const started = performance.now();
    const response = await post(service, body, signBody(TEST_SECRET, body));
    const elapsed = performance.now() - started;
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await errorCode(response)).toBe("queue_unavailable");
    expect(elapsed).toBeLessThan(2000);
  };

  it("within 2 s when Redis is not listening", async () => {
    const port = await freePort();
    // A child process: after an enqueue against a Redis that never answered, the service's
    // close() does not return (the shutdown deadline then ends the process, exit 1).
    const harness = await createHarness({
      secret: TEST_SECRET,
      redisUrl: `redis://127.0.0.1:${port}`,
    });
    try {
      const service = await harness.spawn({
        role: "api",
        env: { SHUTDOWN_TIMEOUT_MS: "1000" },
        ready: false,
      });
      await waitFor(async () => (await fetch(`${service.url}/healthz`)).status === 200, {
        message: "listening",
      });
      await expectFast503(service);
    } finally {
      await harness.close();
    }
  });

  describe("when Redis answers too slowly", () => {
    // A redis-server of this test's own: CLIENT PAUSE would stall every test on the shared one.
    let redis: RedisServer | undefined;
    let port = 0;
    beforeAll(async () => {
      redis = await startRedisServer();
      port = redis.port;
    });
    afterAll(() => redis?.close());

    it("answers 503 within 2 s while Redis is paused, then 202 once it resumes", async () => {
      const harness = await startHarness(
        { secret: TEST_SECRET, redisUrl: `redis://127.0.0.1:${port}` },
        { role: "api" },
      );
      const admin = new Redis(port, "127.0.0.1");
      try {
        const body = JSON.stringify(seamEvent());
        // Connected and ready first, so the pause, not a missing connection, is what is measured.
        await waitFor(
          async () =>
            (await post(harness.service, body, signBody(TEST_SECRET, body))).status === 202,
        );
        await admin.call("CLIENT", "PAUSE", "4000", "ALL");
        await expectFast503(harness.service);
        await admin.call("CLIENT", "UNPAUSE");
        const later = JSON.stringify(seamEvent());
        await waitFor(
          async () =>
            (await post(harness.service, later, signBody(TEST_SECRET, later))).status === 202,
        );
      } finally {
        admin.disconnect();
        await harness.close();
      }
    });
  });
});
