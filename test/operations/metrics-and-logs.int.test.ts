import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { jobIdFor } from "../../src/ingest/queue.js";
import { createLogger } from "../../src/log.js";
import { signBody } from "../../src/replay/sign.js";
import { type Service, useHarness } from "../helpers/harness.js";
import { sampleOf, scrape } from "../helpers/metrics.js";
import { deletionEvent, TEST_TOKEN } from "../helpers/readiness.js";
import { waitFor } from "../helpers/wait-for.js";

/** Every log line the service writes, parsed. */
const lines: Record<string, unknown>[] = [];
const raw: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split("\n").filter(Boolean)) {
      raw.push(line);
      lines.push(JSON.parse(line));
    }
    done();
  },
});

const harness = useHarness({}, { log: createLogger("info", {}, sink) });
let service: Service;
beforeAll(() => {
  service = harness().service;
});

const post = (body: string, headers: Record<string, string>) =>
  fetch(`${service.url}/webhooks/seam`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });

describe("/metrics", () => {
  it("counts webhooks by outcome, projections, duplicates, poison events, lag and waiter wakes", async () => {
    const before = await scrape(service.url);
    const count = (text: string, outcome: string) =>
      sampleOf(text, "seam_projector_webhooks_received_total", { outcome });

    const identity = randomUUID();
    const phone = randomUUID();
    await service.requestDeletion(identity, { phone_ids: [phone] });
    const waiting = service.waitDeletion(identity, 20);
    await waitFor(() => service.waiters.size === 1, { message: "waiter registered" });
    expect(sampleOf(await scrape(service.url), "seam_projector_waiters_active")).toBe(1);

    const event = deletionEvent("phone", phone);
    const body = JSON.stringify(event);
    expect((await service.sendEvent(event)).status).toBe(202);
    expect((await waiting).status).toBe(200);
    // A redelivery after BullMQ dropped the completed job (it keeps them an hour): the worker
    // sees it and Postgres' event log finds it recorded. (While the job is kept, BullMQ itself
    // drops the duplicate at enqueue, and nothing is counted.)
    const { queue } = harness().queue;
    const jobId = jobIdFor(event.event_id as string, body);
    await waitFor(async () => (await queue.getJobState(jobId)) === "completed");
    await queue.remove(jobId);
    expect((await service.sendEvent(event)).status).toBe(202);
    expect(
      (await post(body, signBody(harness().secret.replace("whsec_", "whsec_AA"), body))).status,
    ).toBe(401);
    const notEvent = JSON.stringify([1, 2]);
    expect((await post(notEvent, signBody(harness().secret, notEvent))).status).toBe(400);
    expect((await post("x".repeat(300 * 1024), {})).status).toBe(413);
    // Schema-invalid: acs_user.deleted without acs_user_id is accepted, then poison.
    const poison = { ...deletionEvent("acs_user", randomUUID()), acs_user_id: undefined };
    expect((await service.sendEvent(poison)).status).toBe(202);

    const after = await waitFor(
      async () => {
        const text = await scrape(service.url);
        const done =
          sampleOf(text, "seam_projector_poison_events_total") -
            sampleOf(before, "seam_projector_poison_events_total") ===
            1 &&
          sampleOf(text, "seam_projector_duplicates_skipped_total") -
            sampleOf(before, "seam_projector_duplicates_skipped_total") ===
            1;
        return done ? text : undefined;
      },
      { message: "poison and duplicate counted" },
    );
    expect(count(after, "accepted") - count(before, "accepted")).toBe(3);
    expect(count(after, "invalid_signature") - count(before, "invalid_signature")).toBe(1);
    expect(count(after, "invalid_payload") - count(before, "invalid_payload")).toBe(1);
    expect(count(after, "too_large") - count(before, "too_large")).toBe(1);
    expect(count(after, "queue_unavailable")).toBe(0);
    expect(
      sampleOf(after, "seam_projector_events_projected_total", {
        event_type: "phone.deactivated",
        result: "projected",
      }),
    ).toBe(1);
    expect(
      sampleOf(after, "seam_projector_projection_lag_seconds_count", { since: "received" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleOf(after, "seam_projector_projection_lag_seconds_count", { since: "occurred" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleOf(after, "seam_projector_enqueue_seconds_count")).toBeGreaterThanOrEqual(3);
    // At least the wake that answered the waiter. The deletion request's own NOTIFY may reach
    // the listener after the waiter registered, and cost one more (harmless) read and wake.
    expect(sampleOf(after, "seam_projector_waiter_wake_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sampleOf(after, "seam_projector_waiters_active")).toBe(0);
    expect(after).toMatch(/^seam_projector_queue_jobs\{state="failed",role="all"\} 1$/m);
    expect(after).toContain("seam_projector_listener_reconnects_total");
  });
});

describe("logs", () => {
  it("carry the request id on every line of a request, echo it, and never hold a secret", async () => {
    // Only a UUID is kept as the request id (anything else might be a secret).
    const requestId = randomUUID();
    const response = await fetch(`${service.url}/v1/user_identities/${randomUUID()}/readiness`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "x-request-id": requestId },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe(requestId);
    const mine = await waitFor(() => {
      const found = lines.filter((line) => line.requestId === requestId);
      return found.length > 0 ? found : undefined;
    });
    expect(mine).toEqual([
      expect.objectContaining({
        msg: "request",
        method: "GET",
        status: 200,
        path: expect.stringMatching(/\/readiness$/),
      }),
    ]);

    // An unsafe id is replaced by a fresh one rather than echoed into logs.
    const odd = await fetch(`${service.url}/healthz`, { headers: { "x-request-id": 'a b"c' } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    // Everything logged so far: signed webhooks, bearer calls. No secret, token or signature.
    await waitFor(() => raw.length > 5);
    const all = raw.join("\n");
    expect(all).not.toContain(TEST_TOKEN);
    expect(all).not.toContain(harness().secret);
    expect(all).not.toContain(harness().secret.slice("whsec_".length));
    expect(all).not.toMatch(/v1,[A-Za-z0-9+/=]{40}/);
    const requestLines = lines.filter((line) => line.msg === "request");
    expect(requestLines.length).toBeGreaterThan(3);
    for (const line of requestLines) expect(line.requestId).toEqual(expect.any(String));
  });
});
