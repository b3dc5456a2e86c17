import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { buildIdentityScenario, type SeamEventJson } from "../test/helpers/scenario.js";
import { type Figure, percentile } from "./lib.js";

const IDENTITIES = 20;
const POLL_INTERVAL_MS = 1000;
const SPREAD_MS = 8000;

/**
 * Figure 5, the baseline: Seam's documented way to wait for an identity's resources to be gone
 * polls `events.list` once a second until every deletion event has appeared. A local stand-in
 * for `events.list` publishes the same scenario's deletion events at random moments; each
 * identity has its own loop, as an app following the docs would. Reported: requests made and
 * the time from the last deletion event's publication to the loop noticing it.
 */
export const benchPolling = async () => {
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

  const scenarios = Array.from({ length: IDENTITIES }, () => buildIdentityScenario());
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
  const figures: Record<string, Figure> = {
    polling_requests: {
      value: requests,
      unit: `requests for ${IDENTITIES} identities over ${Math.round((Date.now() - started) / 1000)} s`,
      beside: {
        value: IDENTITIES,
        of: "seam-projector: one long-poll per identity, and no statement while they wait (figure 4)",
      },
    },
    polling_wake_p50_ms: { value: percentile(wakeLatencies, 50), unit: "ms" },
    polling_wake_p99_ms: { value: percentile(wakeLatencies, 99), unit: "ms" },
  };
  return figures;
};
