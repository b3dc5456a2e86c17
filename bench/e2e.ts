import { randomBytes } from "node:crypto";
import { dropPrefix } from "../test/helpers/redis.js";
import { openLongPolls, postDelivery, waiterAgent, webhookAgent } from "./http.js";
import {
  BENCH_TOKEN,
  compared,
  cpuMeter,
  type Figure,
  failuresFigure,
  percentile,
  presign,
  SERVER_PROCESSES,
  startBenchService,
  stopBenchService,
} from "./lib.js";
import { type BenchIdentity, makeIdentities, resetBenchTables, seedIdentities } from "./seed.js";

const RATE = 1000;
const DURATION_SECONDS = Number(process.env.BENCH_E2E_SECONDS ?? 10);
/**
 * Identities made ready in the first seconds are not counted: a process just started runs cold
 * (JIT, first prepared statements, pool connections) and falls up to a second behind before it
 * catches up (about 3 s in, here; BENCH_DEBUG=1 prints the latency by second of the run).
 */
const WARMUP_SECONDS = 3;
const RESOURCES = ["acs_user", "acs_credential", "phone", "client_session"] as const;
/** Identities whose events are interleaved at once: an identity's events arrive ~25 ms apart. */
const INTERLEAVE = 25;

/**
 * The send order: identities in groups of INTERLEAVE, each group sending its first events, then
 * its second ones, and so on, so an identity's last event (the one that makes it ready) arrives
 * among other identities' events, as from a busy workspace.
 */
const schedule = (identities: BenchIdentity[]) => {
  const order: { identity: number; last: boolean; body: string }[] = [];
  for (let start = 0; start < identities.length; start += INTERLEAVE) {
    const group = identities.slice(start, start + INTERLEAVE);
    for (let k = 0; k < RESOURCES.length; k += 1) {
      group.forEach((identity, offset) => {
        order.push({
          identity: start + offset,
          last: k === RESOURCES.length - 1,
          body: JSON.stringify(identity.deletionEvents[k]),
        });
      });
    }
  }
  return order;
};

type Latencies = {
  p50: number;
  p99: number;
  /** From the ready event's 202 instead of its sending: what the projection and wake add. */
  afterAcceptedP50: number;
  samples: number;
  failures: number;
  /** Per cent of one core each used while the events were sent. */
  cpu: { service: number; bench: number; redis: number; postgres: number };
};

/**
 * Sends the scheduled events at RATE per second to `url` while one long-poll waits on each
 * identity; returns, for the identities after the warm-up, the time from sending the event that
 * made the identity ready to its waiter's answer.
 */
const measureWakeLatency = async (
  servicePid: number,
  url: string,
  identities: BenchIdentity[],
  isReady: (body: string) => boolean,
): Promise<Latencies> => {
  const waiters = waiterAgent();
  const polls = await openLongPolls(
    waiters,
    url,
    identities.map((identity) => identity.id),
    BENCH_TOKEN,
  );
  // Every waiter registered and its first read done before the first event.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const order = schedule(identities);
  const deliveries = presign(order.map((item) => item.body));
  const agent = webhookAgent(32);
  const readySentAt = new Array<number>(identities.length).fill(Number.NaN);
  const readyAcceptedAt = new Array<number>(identities.length).fill(Number.NaN);
  const sends: Promise<number>[] = [];
  const cpuUsed = cpuMeter({
    service: () => [servicePid],
    bench: () => [process.pid],
    ...SERVER_PROCESSES,
  });
  const started = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(order.length, Math.floor(((performance.now() - started) * RATE) / 1000));
      while (next < due) {
        const item = order[next] as (typeof order)[number];
        const delivery = deliveries[next] as (typeof deliveries)[number];
        next += 1;
        sends.push(
          postDelivery(agent, `${url}/webhooks/seam`, delivery, () => {
            if (item.last) readySentAt[item.identity] = performance.now();
          }).then((status) => {
            if (item.last) readyAcceptedAt[item.identity] = performance.now();
            return status;
          }),
        );
      }
      if (next < order.length) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const sentDone = performance.now() - started;
  const cpu = cpuUsed().percent;
  const statuses = await Promise.all(sends);
  const acceptedDone = performance.now() - started;
  const answers = await Promise.all(polls.map((poll) => poll.answered));
  if (process.env.BENCH_DEBUG) {
    process.stdout.write(
      `  sent in ${Math.round(sentDone)} ms, all answered 202 at ${Math.round(acceptedDone)} ms, last waiter at ${Math.round(Math.max(...answers.map((a) => a.at)) - started)} ms\n`,
    );
    const bySecond = new Map<number, number[]>();
    answers.forEach((a, i) => {
      const sec = Math.floor(((readySentAt[i] as number) - started) / 1000);
      const list = bySecond.get(sec) ?? [];
      list.push(Math.round(a.at - (readySentAt[i] as number)));
      bySecond.set(sec, list);
    });
    for (const [sec, list] of [...bySecond].sort((x, y) => x[0] - y[0])) {
      list.sort((x, y) => x - y);
      process.stdout.write(
        `  sent s${sec}: n=${list.length} p50=${percentile(list, 50)} max=${list.at(-1)}\n`,
      );
    }
  }
  agent.destroy();
  waiters.destroy();

  const warmup = Math.ceil((WARMUP_SECONDS * RATE) / RESOURCES.length);
  const latencies: number[] = [];
  const afterAccepted: number[] = [];
  let failures = statuses.filter((status) => status !== 202).length;
  answers.forEach((answer, index) => {
    if (answer.status !== 200 || !isReady(answer.body)) failures += 1;
    else if (index >= warmup) {
      latencies.push(answer.at - (readySentAt[index] as number));
      afterAccepted.push(answer.at - (readyAcceptedAt[index] as number));
    }
  });
  latencies.sort((a, b) => a - b);
  afterAccepted.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    afterAcceptedP50: round(percentile(afterAccepted, 50)),
    samples: latencies.length,
    failures,
    cpu,
  };
};

/**
 * Figure 3: at 1,000 events/s, the time from sending the event that makes an identity ready to
 * its long-poll waiter answering; seam-projector (one process, full projection) against the bare
 * pipeline (bench/bare-pipeline.ts), same run, same events.
 */
export const benchEndToEnd = async (env: { databaseUrl: string; prefix: string }) => {
  const count = Math.ceil(((DURATION_SECONDS + WARMUP_SECONDS) * RATE) / RESOURCES.length);
  const run = async (entry: "bare" | "ours") => {
    await resetBenchTables(env.databaseUrl);
    const identities = makeIdentities(count, [...RESOURCES]);
    await seedIdentities(env.databaseUrl, identities);
    const prefix = `${env.prefix}-${entry}-${randomBytes(3).toString("hex")}`;
    const service = await startBenchService(
      entry,
      { DATABASE_URL: env.databaseUrl, QUEUE_PREFIX: prefix },
      process.env.PROFILE_E2E && entry === "ours"
        ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_E2E}`] }
        : {},
    );
    try {
      process.stdout.write(`e2e: ${entry}, ${count} identities, ${count * 4} events…\n`);
      return await measureWakeLatency(
        service.child.pid as number,
        service.url,
        identities,
        (body) => (entry === "bare" ? body.includes('"ready":true') : isReadyAnswer(body)),
      );
    } finally {
      await stopBenchService(service);
      await dropPrefix(prefix);
    }
  };
  const ceiling = await run("bare");
  const ours = await run("ours");
  const figures: Record<string, Figure> = {
    e2e_wake_p50_ms: compared(ours.p50, "ms", ceiling.p50, {
      text: "< 5 ms",
      met: (value) => value < 5,
    }),
    e2e_wake_p99_ms: compared(ours.p99, "ms", ceiling.p99, {
      text: "< 25 ms",
      met: (value) => value < 25,
    }),
    e2e_wake_after_202_p50_ms: compared(
      ours.afterAcceptedP50,
      "ms from the ready event's 202 (not its sending) to the waiter's answer",
      ceiling.afterAcceptedP50,
    ),
    e2e_samples: {
      value: ours.samples,
      unit: `identities made ready at ${RATE} events/s (bare: ${ceiling.samples})`,
    },
    e2e_service_cpu_percent: compared(
      ours.cpu.service,
      `% of one core the service used while sending (load generator ${ours.cpu.bench}, Redis ${ours.cpu.redis}, Postgres ${ours.cpu.postgres}; two cores in all)`,
      ceiling.cpu.service,
    ),
    e2e_failures: failuresFigure(ours.failures, ceiling.failures),
  };
  return figures;
};

const isReadyAnswer = (body: string) => {
  const readiness = JSON.parse(body) as { ready: boolean; deletion: { status: string } | null };
  return readiness.ready && readiness.deletion?.status === "ready";
};
