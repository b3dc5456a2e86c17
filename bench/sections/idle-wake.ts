import { randomBytes } from "node:crypto";
import { makeIdentities, seedIdentities } from "../lib/events.js";
import { type Figure, figure, NONE_IN_ANY_ROUND, percentile, progress } from "../lib/figures.js";
import { sleep } from "../lib/processes.js";
import {
  DATABASE_URL,
  dropPrefix,
  type LoadProcess,
  type Service,
  startBenchServer,
  startLoad,
  startOurs,
  stopAll,
} from "../lib/services.js";
import { BENCH_TOKEN } from "../lib/sign.js";

const WAKES = Number(process.env.BENCH_IDLE_WAKES ?? 100);
/** Time for a long-poll to be registered and read before its event is sent. */
const SETTLE_MS = 30;

type Round = { p50: number; p99: number; failures: number };

/** Where ours spends a wake, as its own metrics time the hops (ms, means over the round). */
type Hops = { enqueue: number; receiptToCommit: number; notifyToAnswer: number };

/** A histogram's mean in ms from Prometheus text: its `_sum` over its `_count`. */
const meanMs = (text: string, name: string, labels = "") => {
  const value = (suffix: string) => {
    const line = text
      .split("\n")
      .find((l) => l.startsWith(`${name}_${suffix}{`) && l.includes(labels));
    return Number(line?.split(" ").at(-1) ?? Number.NaN);
  };
  return (value("sum") / value("count")) * 1000;
};

/**
 * The service's own timings of the round's hops: the webhook's durable enqueue (ingest), the
 * event's receipt to its projection's commit (the queue's pick-up, the batcher, the
 * transaction), and the NOTIFY's arrival to the long-poll's answer (the read after it and the
 * write). What is left of the p50 is outside them: HTTP in and out, and the notification's trip.
 */
const readHops = async (service: Service): Promise<Hops> => {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return {
    enqueue: meanMs(text, "seam_projector_enqueue_seconds"),
    receiptToCommit: meanMs(text, "seam_projector_projection_lag_seconds", 'since="received"'),
    notifyToAnswer: meanMs(text, "seam_projector_waiter_wake_seconds"),
  };
};

/**
 * WAKES times in turn, on an otherwise idle service: a long-poll on one identity (held by one
 * load process), then its one deletion webhook (sent by another); from the webhook's sending to
 * the long-poll's answer.
 */
const measure = async (
  service: Service,
  sender: LoadProcess,
  holder: LoadProcess,
): Promise<Round> => {
  const identities = makeIdentities(WAKES, ["phone"]);
  await seedIdentities(DATABASE_URL, identities);
  const latencies: number[] = [];
  let failures = 0;
  for (const identity of identities) {
    await holder.call("hold", {
      baseUrl: service.url,
      ids: [identity.id],
      token: BENCH_TOKEN,
      mode: "poll",
    });
    await sleep(SETTLE_MS);
    const answer = holder.call<{ status: number; ready: boolean; at: number }[]>("answers");
    const sent = await sender.call<{ status: number; sentAt: number }>("postOne", {
      url: `${service.url}/webhooks/seam`,
      body: JSON.stringify(identity.deletionEvents[0]),
    });
    const [answered] = (await answer).result;
    if (sent.result.status !== 202 || answered?.status !== 200 || !answered.ready) failures += 1;
    else latencies.push(answered.at - sent.result.sentAt);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
};

/**
 * The idle wake: one identity's last deletion webhook sent → its long-poll answered, with the
 * service otherwise idle. seam-projector (ROLE=all) beside the baseline pipeline.
 */
export const benchIdleWake = async (rounds: number): Promise<Record<string, Figure>> => {
  const baseline: Round[] = [];
  const ours: Round[] = [];
  const hops: Hops[] = [];
  const [sender, holder] = await Promise.all([startLoad("wake-sender"), startLoad("wake-holder")]);
  try {
    for (let round = 1; round <= rounds; round += 1) {
      progress(`idle wake: round ${round} of ${rounds}, ${WAKES} wakes each`);
      for (const entry of ["baseline", "ours"] as const) {
        const prefix = `bench-wake-${randomBytes(4).toString("hex")}`;
        const service =
          entry === "baseline"
            ? await startBenchServer("baseline-pipeline", { QUEUE_PREFIX: prefix })
            : await startOurs("all", { ROLE: "all", QUEUE_PREFIX: prefix });
        try {
          await sleep(500);
          const result = await measure(service, sender, holder);
          (entry === "baseline" ? baseline : ours).push(result);
          if (entry === "ours") hops.push(await readHops(service));
          progress(
            `  ${(entry === "baseline" ? "baseline pipeline" : "seam-projector").padEnd(20)} p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  failures ${result.failures}`,
          );
        } finally {
          await stopAll(service);
          await dropPrefix(prefix);
        }
      }
    }
  } finally {
    await stopAll(sender, holder);
  }
  const baselineIs = "the baseline pipeline (not a ceiling)";
  return {
    idle_wake_p50_ms: figure({
      unit: `ms, one identity's last deletion webhook sent → its long-poll answered, idle service, ${WAKES} wakes a round`,
      ours: ours.map((r) => r.p50),
      baseline: { values: baseline.map((r) => r.p50), is: baselineIs },
      goal: { text: "<= 5 ms", met: (value) => value <= 5 },
    }),
    idle_wake_p99_ms: figure({
      unit: "ms, the same, p99",
      ours: ours.map((r) => r.p99),
      baseline: { values: baseline.map((r) => r.p99), is: baselineIs },
      goal: { text: "<= 15 ms", met: (value) => value <= 15 },
    }),
    idle_wake_hop_enqueue_ms: figure({
      unit: "ms, mean per wake, ours only, by its own metric: the webhook's durable enqueue in Redis (seam_projector_enqueue_seconds)",
      ours: hops.map((h) => h.enqueue),
    }),
    idle_wake_hop_receipt_to_commit_ms: figure({
      unit: "ms, mean per wake: the webhook's receipt to its projection's commit (projection_lag_seconds, since=received): the queue's pick-up, the batcher, the transaction",
      ours: hops.map((h) => h.receiptToCommit),
    }),
    idle_wake_hop_notify_to_answer_ms: figure({
      unit: "ms, mean per wake: the NOTIFY's arrival to the long-poll's answer (waiter_wake_seconds): the read after it and the write",
      ours: hops.map((h) => h.notifyToAnswer),
    }),
    idle_wake_failures: figure({
      unit: "wakes not answered ready",
      ours: ours.map((r) => r.failures),
      goal: NONE_IN_ANY_ROUND,
    }),
  };
};
