import { randomUUID } from "node:crypto";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { deletionEvent, type Readiness } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";

type Seen = { event: string; data: unknown; id: string | undefined };

/** Opens the stream; every event of it, as it comes, until `close()` (which hangs up). */
const open = async (service: Service, headers: Record<string, string> = {}) => {
  const controller = new AbortController();
  const response = await service.call("GET", "/v1/deletions/events", undefined, {
    signal: controller.signal,
    headers,
  });
  return { response, ...follow(response, controller) };
};

const follow = (response: Response, controller: AbortController) => {
  const seen: Seen[] = [];
  const parser = createParser({
    onEvent: (event) =>
      seen.push({ event: event.event ?? "message", data: JSON.parse(event.data), id: event.id }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const pumping = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })();
  return {
    seen,
    readinessOf: (id: string) =>
      seen
        .filter((s) => s.event === "readiness" && (s.data as Readiness).user_identity_id === id)
        .map((s) => s.data as Readiness),
    close: async () => {
      controller.abort();
      await reader.cancel().catch(() => {});
      await pumping;
    },
  };
};

/** CONTRACT §5: `GET /v1/deletions/events`, one stream of every deletion change. */
describe("GET /v1/deletions/events", () => {
  const harness = useHarness();

  it("tells every change of any deletion: requested, ready, cancelled; and the queue's counts", async () => {
    const { service } = harness();
    const stream = await open(service);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    try {
      await waitFor(() => stream.seen.some((s) => s.event === "queue"), { message: "queue event" });
      expect(stream.seen.find((s) => s.event === "queue")?.data).toEqual({ waiting: 0, failed: 0 });

      const [a, b] = [randomUUID(), randomUUID()];
      const user = randomUUID();
      await service.requestDeletion(a, { acs_user_ids: [user] });
      await service.requestDeletion(b);
      await waitFor(() => stream.readinessOf(a).length > 0 && stream.readinessOf(b).length > 0, {
        message: "both requests",
      });
      expect(stream.readinessOf(a)[0]).toMatchObject({
        ready: false,
        deletion: { status: "pending" },
      });
      expect(stream.readinessOf(b)[0]).toMatchObject({
        ready: true,
        deletion: { status: "ready" },
      });

      expect((await service.sendEvent(deletionEvent("acs_user", user))).status).toBe(202);
      await waitFor(() => stream.readinessOf(a).some((r) => r.ready), { message: "a ready" });

      expect((await service.cancelDeletion(b)).status).toBe(204);
      await waitFor(() => stream.readinessOf(b).some((r) => r.deletion === null), {
        message: "b cancelled",
      });
      // Event ids rise within the stream.
      const numbers = stream.seen.map((s) => Number(s.id));
      expect(numbers.every(Number.isInteger)).toBe(true);
      expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
      // An identity without a deletion request is not a deletion: linking it tells nothing.
      const before = stream.seen.length;
      const linked = randomUUID();
      const requested = randomUUID();
      await service.link(linked, { acs_user_ids: [randomUUID()] });
      await service.requestDeletion(requested);
      await waitFor(() => stream.seen.length === before + 1);
      // The one event since is the request's: the link before it sent none.
      expect(stream.seen.at(-1)?.event).toBe("readiness");
      expect((stream.seen.at(-1)?.data as Readiness | undefined)?.user_identity_id).toBe(requested);
      expect(stream.readinessOf(linked)).toEqual([]);
    } finally {
      await stream.close();
    }
  });

  it("starts with resync for a client that reconnects with Last-Event-ID", async () => {
    const stream = await open(harness().service, { "last-event-id": "x-41" });
    try {
      await waitFor(() => stream.seen.length > 0);
      expect(stream.seen[0]?.event).toBe("resync");
    } finally {
      await stream.close();
    }
  });

  it("leaves nothing registered once the client goes", async () => {
    const { service } = harness();
    const waiters = service.waiters;
    await waitFor(() => waiters.size === 0, { message: "the other tests' streams released" });
    const before = waiters.size;
    const stream = await open(service);
    await waitFor(() => waiters.size === before + 1);
    await stream.close();
    await waitFor(() => waiters.size === before, { message: "feed released" });
  });

  it("needs a token", async () => {
    const response = await fetch(`${harness().service.url}/v1/deletions/events`);
    expect(response.status).toBe(401);
  });
});
