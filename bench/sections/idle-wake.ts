import { randomBytes } from "node:crypto";
import { makeIdentities, seedIdentities } from "../lib/events.js";
import { type Figure, figure, percentile, progress } from "../lib/figures.js";
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
    idle_wake_failures: figure({
      unit: "wakes not answered ready",
      ours: ours.map((r) => r.failures),
      goal: { text: "0", met: (value) => value === 0 },
    }),
  };
};
