import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sampleOf, scrape } from "../helpers/metrics.js";
import {
  deletionEvent,
  type ReadinessService,
  startReadinessService,
} from "../helpers/readiness.js";
import { waitFor } from "../helpers/wait-for.js";

const MAX_DEPTH = 5;

let api: ReadinessService;
let worker: ReadinessService | undefined;
beforeAll(async () => {
  // An API process alone, so the queue only grows until a worker is started.
  api = await startReadinessService({ role: "api", env: { QUEUE_MAX_DEPTH: String(MAX_DEPTH) } });
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
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

  worker = await startReadinessService({
    role: "worker",
    database: api.database,
    prefix: api.prefix,
    secret: api.secret,
  });
  // Svix's retry of a refused event is accepted once the worker has drained the queue.
  const retried = events[MAX_DEPTH] as Record<string, unknown>;
  await waitFor(async () => (await api.sendEvent(retried)).status === 202, {
    timeoutMs: 15_000,
    intervalMs: 100,
    message: "accepted again after the drain",
  });
  const rows = await waitFor(async () => {
    const found = await api.database.sql<{ event_id: string }[]>`
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
