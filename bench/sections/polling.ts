import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { SeamEventJson } from "../../sim/events.js";
import { identityLifecycle } from "../lib/events.js";
import { type Figure, figure, percentile, progress } from "../lib/figures.js";

const isDeletion = (event: SeamEventJson) => /\.(deleted|deactivated)$/.test(event.event_type);

const IDENTITIES = 20;
const POLL_INTERVAL_MS = 1000;
const SPREAD_MS = 8000;

/**
 * The baseline of the whole service: Seam's documented way to wait for an identity's resources to be gone
 * polls `events.list` once a second until every deletion event has appeared. A local stand-in
 * for `events.list` publishes the same scenario's deletion events at random moments; each
 * identity has its own loop, as an app following the docs would. Reported: requests made and
 * the time from the last deletion event's publication to the loop noticing it.
 */
const pollOnce = async () => {
  const published: (SeamEventJson & { publishedAt: number })[] = [];
  const app = new Hono().post("/events/list", async (c) => {
    const { event_ids } = (await c.req.json()) as { event_ids: string[] };
    const wanted = new Set(event_ids);
    return c.json({ events: published.filter((event) => wanted.has(event.event_id)) });
  });
  let requests = 0;
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/events/list`;

  const scenarios = Array.from({ length: IDENTITIES }, () => ({
    deletionEvents: identityLifecycle(new Date()).filter(isDeletion),
  }));
  const wakeLatencies: number[] = [];
  const started = Date.now();
  const loops = scenarios.map(async (scenario) => {
    const ids = scenario.deletionEvents.map((event) => event.event_id);
    // The documented loop: list, compare, sleep a second, again.
    for (;;) {
      requests += 1;
      const response = await fetch(url, {
        method: "POST",
        body: JSON.stringify({ event_ids: ids }),
      });
      const { events } = (await response.json()) as {
        events: (SeamEventJson & { publishedAt: number })[];
      };
      if (events.length === ids.length) {
        const lastPublished = Math.max(...events.map((event) => event.publishedAt));
        wakeLatencies.push(Date.now() - lastPublished);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  });
  const publishers = scenarios.flatMap((scenario) =>
    scenario.deletionEvents.map(
      (event) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            published.push({ ...event, publishedAt: Date.now() });
            resolve();
          }, Math.random() * SPREAD_MS),
        ),
    ),
  );
  await Promise.all([...publishers, ...loops]);
  server.close();
  wakeLatencies.sort((a, b) => a - b);
  return {
    requests,
    seconds: (Date.now() - started) / 1000,
    p50: percentile(wakeLatencies, 50),
    p99: percentile(wakeLatencies, 99),
  };
};

/**
 * Runs the documented loop for IDENTITIES identities, once a round. It measures the loop, not a
 * server: the stand-in for events.list answers from memory in this process, and the latency is
 * the poll interval's, which no server speed changes.
 */
export const benchPolling = async (rounds: number): Promise<Record<string, Figure>> => {
  const results: Awaited<ReturnType<typeof pollOnce>>[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const r = await pollOnce();
    results.push(r);
    progress(
      `polling: round ${round} of ${rounds}: ${r.requests} requests, wake p50 ${r.p50} ms, p99 ${r.p99} ms`,
    );
  }
  return {
    polling_requests: figure({
      unit: `events.list requests for ${IDENTITIES} identities whose ${IDENTITIES * 9} deletion events are published over ${SPREAD_MS / 1000} s (seam-projector: one long-poll each, no statement while waiting)`,
      ours: results.map((r) => r.requests),
    }),
    polling_wake_p50_ms: figure({
      unit: "ms from the last deletion event published to the loop noticing it (Seam's documented loop, one poll a second)",
      ours: results.map((r) => r.p50),
    }),
    polling_wake_p99_ms: figure({ unit: "ms, the same, p99", ours: results.map((r) => r.p99) }),
  };
};
