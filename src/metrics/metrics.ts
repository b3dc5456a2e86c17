import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { withTimeout } from "../util/timeout.js";

/** Seconds; the webhook's whole budget is 2 s, so the buckets are fine below that. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600];

/** A scrape waits this long for the queue's figures: /metrics answers within 2 s (docs/api.md). */
const QUEUE_READ_TIMEOUT_MS = 1000;

/** Every outcome of a webhook delivery; counted from zero so rates exist before the first. */
const WEBHOOK_OUTCOMES = [
  "accepted",
  "invalid_signature",
  "invalid_payload",
  "too_large",
  "aborted",
  "queue_unavailable",
  "queue_full",
] as const;

export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export type QueueDepth = () => Promise<Record<string, number>>;

/**
 * Every metric of the service, on a registry of its own (never prom-client's global one, so two
 * services in one test process do not collide). Names follow Prometheus conventions.
 */
export const createMetrics = (options: { role: string; queueDepth?: QueueDepth }) => {
  const registry = new Registry();
  registry.setDefaultLabels({ role: options.role });
  collectDefaultMetrics({ register: registry });

  const metrics = {
    registry,
    webhooksReceived: new Counter({
      name: "seam_projector_webhooks_received_total",
      help: "Webhook deliveries by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    enqueueSeconds: new Histogram({
      name: "seam_projector_enqueue_seconds",
      help: "Time to write an event durably to the queue",
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    eventsProjected: new Counter({
      name: "seam_projector_events_projected_total",
      help: "Events applied by the projector, by event type and result",
      labelNames: ["event_type", "result"] as const,
      registers: [registry],
    }),
    executions: new Counter({
      name: "seam_projector_executions_total",
      help: "Executions of deletions in Seam (CONTRACT §8) that started, completed or failed",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    seamCalls: new Counter({
      name: "seam_projector_seam_calls_total",
      help: "Seam API calls made by executions, by route and outcome",
      labelNames: ["route", "outcome"] as const,
      registers: [registry],
    }),
    executionStepSeconds: new Histogram({
      name: "seam_projector_execution_step_seconds",
      help: "How long each step of an execution took, from its start to the next step's",
      labelNames: ["step"] as const,
      buckets: LAG_BUCKETS,
      registers: [registry],
    }),
    duplicatesSkipped: new Counter({
      name: "seam_projector_duplicates_skipped_total",
      help: "Deliveries whose event id was already recorded",
      registers: [registry],
    }),
    eventConflicts: new Counter({
      name: "seam_projector_event_conflicts_total",
      help: "Deliveries of a recorded event id with a different body (ignored)",
      registers: [registry],
    }),
    poisonEvents: new Counter({
      name: "seam_projector_poison_events_total",
      help: "Events that failed their Seam schema and went to the failed set",
      registers: [registry],
    }),
    projectionLagSeconds: new Histogram({
      name: "seam_projector_projection_lag_seconds",
      help: "Time from an event's occurred_at (since=occurred) or its receipt (since=received) to its projection",
      labelNames: ["since"] as const,
      buckets: LAG_BUCKETS,
      registers: [registry],
    }),
    waiterWakeSeconds: new Histogram({
      name: "seam_projector_waiter_wake_seconds",
      help: "Time from a readiness notification to the waiters' answer",
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    waitersRefused: new Counter({
      name: "seam_projector_waiters_rejected_total",
      help: "Long-polls and SSE streams refused with 503 because a cap was reached (cap=process: MAX_WAITERS, cap=token: MAX_WAITERS_PER_TOKEN)",
      labelNames: ["cap"] as const,
      registers: [registry],
    }),
    listenerReconnects: new Counter({
      name: "seam_projector_listener_reconnects_total",
      help: "Times the LISTEN connection was re-established",
      registers: [registry],
    }),
  };

  for (const outcome of WEBHOOK_OUTCOMES) metrics.webhooksReceived.inc({ outcome }, 0);
  for (const cap of ["process", "token"]) metrics.waitersRefused.inc({ cap }, 0);

  const queueDepth = options.queueDepth;
  if (queueDepth) {
    // One read of Redis at a time: against a hung Redis a read never settles, and scrapes must
    // not pile more on it. A scrape waits for it up to QUEUE_READ_TIMEOUT_MS, and both gauges
    // of one scrape (prom-client collects them together) share that wait.
    let reading: ReturnType<QueueDepth> | undefined;
    let scraping: Promise<Record<string, number> | undefined> | undefined;
    const readQueue = () => {
      scraping ??= (async () => {
        reading ??= queueDepth().finally(() => {
          reading = undefined;
        });
        try {
          return await withTimeout(reading, QUEUE_READ_TIMEOUT_MS);
        } catch {
          return undefined; // Redis unreachable or hung; /readyz names the outage
        }
      })().finally(() => {
        scraping = undefined;
      });
      return scraping;
    };
    new Gauge({
      name: "seam_projector_queue_jobs",
      help: "Jobs in the events queue, by state: the last figures read (see seam_projector_queue_readable)",
      labelNames: ["state"] as const,
      registers: [registry],
      // Read at scrape time, so the figure is current and costs nothing between scrapes.
      async collect() {
        const counts = await readQueue();
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
      },
    });
    new Gauge({
      name: "seam_projector_queue_readable",
      help: "1 when this scrape read the queue's figures from Redis in time; 0 when they are the last ones read",
      registers: [registry],
      async collect() {
        this.set((await readQueue()) === undefined ? 0 : 1);
      },
    });
  }
  return {
    ...metrics,
    /** An API process: its waiters registered now, read at scrape time. */
    countWaiters: (waitersActive: () => number) => {
      new Gauge({
        name: "seam_projector_waiters_active",
        help: "Long-poll and SSE waiters registered in this process",
        registers: [registry],
        collect() {
          this.set(waitersActive());
        },
      });
    },
  };
};

export type Metrics = ReturnType<typeof createMetrics>;
