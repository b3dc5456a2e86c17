import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.js";
import { createTestSecret, serviceEnv } from "../../test/helpers/projector-service.js";
import { type ApiClient, apiClient, TEST_TOKEN } from "../../test/helpers/readiness.js";
import { dropPrefix, testPrefix } from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { type RunningService, startService } from "../main.js";
import { createManualClock } from "./clock.js";

describe("waiters on a manual clock", () => {
  const clock = createManualClock();
  const prefix = testPrefix();
  let database: TestDatabase;
  let service: RunningService;
  let api: ApiClient;
  beforeAll(async () => {
    database = await createTestDatabase({ max: 2 });
    const secret = createTestSecret();
    const env = serviceEnv({ databaseUrl: database.url, prefix, secret, role: "api" });
    const config = loadConfig({ ...env, API_TOKENS: TEST_TOKEN });
    service = await startService(config, createLogger("silent"), { clock });
    api = apiClient(service.url, { secret });
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200);
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
    await dropPrefix(prefix);
  });
  const size = () => service.waiters?.size;

  const pendingIdentity = async () => {
    const identity = randomUUID();
    const phone = randomUUID();
    expect((await api.requestDeletion(identity, { phone_ids: [phone] })).status).toBe(201);
    return { identity, phone };
  };

  it("answers a long-poll with its current state after its wait seconds, not before", async () => {
    const { identity, phone } = await pendingIdentity();
    let answered = false;
    const waiting = api.waitDeletion(identity, 30).then((response) => {
      answered = true;
      return response;
    });
    // Registered, its state read, and its one timer armed.
    await waitFor(() => size() === 1 && clock.pending === 1, { message: "waiter waiting" });
    clock.advance(29_999);
    expect(clock.pending).toBe(1);
    expect(answered).toBe(false);
    clock.advance(1);
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ready: false,
      blockers: [{ type: "phone", id: phone }],
      deletion: { status: "pending", ready_at: null },
    });
    expect(size()).toBe(0);
  });

  it("keeps an SSE stream alive after 15 s without a change, and only then", async () => {
    const { identity } = await pendingIdentity();
    const abort = new AbortController();
    const response = await api.call(
      "GET",
      `/v1/user_identities/${identity}/deletion/events`,
      undefined,
      { signal: abort.signal },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("event: readiness");
    await waitFor(() => clock.pending === 1, { message: "stream idle" });
    clock.advance(14_999);
    expect(clock.pending).toBe(1);
    clock.advance(1);
    await readUntil(": keep-alive");
    expect(text.match(/event: readiness/g)).toHaveLength(1);
    abort.abort();
    await reader.cancel().catch(() => {});
    await waitFor(() => size() === 0, { message: "registry empty" });
  });
});
