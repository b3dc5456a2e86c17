import { randomUUID } from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import { type Service, useHarness } from "../helpers/harness.js";
import { sampleOf, scrape } from "../helpers/metrics.js";
import { deletionEvent } from "../helpers/readiness.js";
import { waitFor } from "../helpers/wait-for.js";

const MAX_DEPTH = 5;

// An API process alone, so the queue only grows until a worker is started.
const harness = useHarness({}, { role: "api", env: { QUEUE_MAX_DEPTH: String(MAX_DEPTH) } });
let api: Service;
beforeAll(() => {
  api = harness().service;
});

it("answers 503 with Retry-After above the configured depth, counts it, and accepts again once drained", async () => {
  const events = Array.from({ length: MAX_DEPTH + 3 }, () => deletionEvent("phone", randomUUID()));
  const statuses: number[] = [];
  let refused: Response | undefined;
  for (const event of events) {
    const response = await api.sendEvent(event);
    statuses.push(response.status);
    if (response.status === 503) refused ??= response;
  }
  // Exactly the limit goes in, in order; the rest is refused, so Svix keeps it and retries.
  expect(statuses).toEqual([...Array(MAX_DEPTH).fill(202), 503, 503, 503]);
  expect(refused?.headers.get("retry-after")).toBe("5");
  expect(await refused?.json()).toEqual({
    error: {
      code: "queue_unavailable",
      message: `queue is full (${MAX_DEPTH} events waiting), retry later`,
    },
  });
  expect(
    sampleOf(await scrape(api.url), "seam_projector_webhooks_received_total", {
      outcome: "queue_full",
    }),
  ).toBe(3);

  await harness().start({ role: "worker" });
  // Svix's retry of a refused event is accepted once the worker has drained the queue.
  const retried = events[MAX_DEPTH] as Record<string, unknown>;
  await waitFor(async () => (await api.sendEvent(retried)).status === 202, {
    timeoutMs: 15_000,
    intervalMs: 100,
    message: "accepted again after the drain",
  });
  const rows = await waitFor(async () => {
    const found = await harness().database.sql<{ event_id: string }[]>`
      select event_id from events where event_id = any(${events.map((e) => e.event_id as string)})`;
    return found.length === MAX_DEPTH + 1 ? found : undefined;
  });
  expect(rows.map((row) => row.event_id).sort()).toEqual(
    events
      .slice(0, MAX_DEPTH + 1)
      .map((e) => e.event_id)
      .sort(),
  );
});
