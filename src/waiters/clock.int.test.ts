import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useHarness } from "../../test/helpers/harness.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { createManualClock } from "./clock.js";

describe("waiters on a manual clock", () => {
  const clock = createManualClock();
  const harness = useHarness({}, { role: "api", clock });
  const service = () => harness().service;
  const size = () => service().waiters.size;

  const pendingIdentity = async () => {
    const identity = randomUUID();
    const phone = randomUUID();
    expect((await service().requestDeletion(identity, { phone_ids: [phone] })).status).toBe(201);
    return { identity, phone };
  };

  it("answers a long-poll with its current state after its wait seconds, not before", async () => {
    const { identity, phone } = await pendingIdentity();
    let answered = false;
    const waiting = service()
      .waitDeletion(identity, 30)
      .then((response) => {
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
    const response = await service().call(
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
