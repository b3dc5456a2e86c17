import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ServiceProcess } from "../test/helpers/process.js";
import { dropPrefix } from "../test/helpers/redis.js";
import { waitFor } from "../test/helpers/wait-for.js";
import { openLongPolls, waiterAgent } from "./http.js";
import {
  BENCH_TOKEN,
  compared,
  cpuMeter,
  type Figure,
  failuresFigure,
  load,
  presign,
  SERVER_PROCESSES,
  startBenchService,
  startCounterProcess,
  stopBenchService,
} from "./lib.js";
import { makeIdentities, resetBenchTables, seedIdentities } from "./seed.js";

const WAITERS = Number(process.env.BENCH_WAITERS ?? 10_000);
const IDLE_SECONDS = 5;
const SENDER_CONNECTIONS = 50;

/** Resident memory of a process in MB, from /proc/<pid>/status. */
const rssMb = (pid: number | undefined): number => {
  if (pid === undefined) return Number.NaN;
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type WaitersResult = {
  rssIdleMb: number;
  rssWaitingMb: number;
  idleStatements: number;
  lastAnswerMs: number;
  afterLastAcceptedMs: number;
  failures: number;
};

/**
 * WAITERS long-polls on as many identities (one phone each), an idle window, then the events
 * that make them all ready, sent as fast as SENDER_CONNECTIONS connections go. `api` is the
 * process that holds the waiters; its Postgres connections pass through a statement counter.
 */
const measureWaiters = async (
  start: (databaseUrl: string) => Promise<{ api: ServiceProcess; all: ServiceProcess[] }>,
  databaseUrl: string,
): Promise<WaitersResult> => {
  await resetBenchTables(databaseUrl);
  const identities = makeIdentities(WAITERS, ["phone"]);
  await seedIdentities(databaseUrl, identities);
  const target = new URL(databaseUrl);
  const counter = await startCounterProcess({
    host: target.hostname,
    port: Number(target.port || 5432),
  });
  const counted = new URL(databaseUrl);
  counted.port = String(counter.port);
  const { api, all } = await start(counted.toString());
  try {
    await sleep(500);
    const rssIdleMb = rssMb(api.child.pid);
    const waiters = waiterAgent();
    const polls = await openLongPolls(
      waiters,
      api.url,
      identities.map((identity) => identity.id),
      BENCH_TOKEN,
    );
    // Each waiter reads its state once as it registers; wait until those reads are over.
    let last = -1;
    await waitFor(
      async () => {
        const now = counter.statements;
        const settled = now === last && now >= WAITERS;
        last = now;
        if (!settled) await sleep(500);
        return settled;
      },
      { timeoutMs: 60_000, intervalMs: 1, message: "every waiter's first read" },
    );

    const statementsBefore = counter.statements;
    let rssWaitingMb = 0;
    for (let waited = 0; waited < IDLE_SECONDS * 1000; waited += 500) {
      await sleep(500);
      rssWaitingMb = Math.max(rssWaitingMb, rssMb(api.child.pid));
    }
    await sleep(200); // the counter's last report covers the whole window
    const idleStatements = counter.statements - statementsBefore;

    const deliveries = presign(
      identities.flatMap((identity) => identity.deletionEvents.map((e) => JSON.stringify(e))),
    );
    // autocannon sends: node:http's client tops out near 2,600 requests/s here, autocannon
    // near the server's own rate.
    const cpuUsed = cpuMeter({
      api: () => [api.child.pid as number],
      worker: () => all.filter((s) => s !== api).map((s) => s.child.pid as number),
      bench: () => [process.pid],
      ...SERVER_PROCESSES,
    });
    const started = performance.now();
    const sent = await load(`${api.url}/webhooks/seam`, deliveries, {
      connections: SENDER_CONNECTIONS,
      amount: deliveries.length,
    });
    const lastAccepted = performance.now();
    if (process.env.BENCH_DEBUG) {
      const cpu = cpuUsed().percent;
      process.stdout.write(
        `  sent in ${Math.round(lastAccepted - started)} ms (${Math.round(sent.requestsPerSecond)}/s, p50 ${sent.p50} ms, p99 ${sent.p99} ms); CPU %: api ${cpu.api}, worker ${cpu.worker}, bench ${cpu.bench}, Redis ${cpu.redis}, Postgres ${cpu.postgres}\n`,
      );
    }
    const rejected = sent.non2xx + sent.errors;
    const answers = await Promise.all(polls.map((poll) => poll.answered));
    waiters.destroy();
    const lastAnswer = Math.max(...answers.map((answer) => answer.at));
    const notReady = answers.filter(
      (answer) => answer.status !== 200 || !answer.body.includes('"ready":true'),
    ).length;
    return {
      rssIdleMb,
      rssWaitingMb,
      idleStatements,
      lastAnswerMs: Math.round(lastAnswer - started),
      afterLastAcceptedMs: Math.round(lastAnswer - lastAccepted),
      failures: rejected + notReady,
    };
  } finally {
    for (const service of all) await stopBenchService(service);
    await counter.close();
  }
};

/**
 * Figure 4: 10,000 concurrent long-poll waiters. seam-projector's API role holds them (a worker
 * process projects the events), against the bare pipeline holding the same waiters.
 */
export const benchWaiters = async (env: { databaseUrl: string; prefix: string }) => {
  const prefixOf = (name: string) => `${env.prefix}-${name}-${randomBytes(3).toString("hex")}`;
  const barePrefix = prefixOf("bare");
  process.stdout.write(`waiters: bare pipeline, ${WAITERS} waiters…\n`);
  const ceiling = await measureWaiters(async (databaseUrl) => {
    const bare = await startBenchService("bare", {
      DATABASE_URL: databaseUrl,
      QUEUE_PREFIX: barePrefix,
    });
    return { api: bare, all: [bare] };
  }, env.databaseUrl);
  await dropPrefix(barePrefix);

  const prefix = prefixOf("ours");
  process.stdout.write(`waiters: seam-projector, ${WAITERS} waiters…\n`);
  const ours = await measureWaiters(async (databaseUrl) => {
    const [api, worker] = await Promise.all([
      startBenchService(
        "ours",
        { ROLE: "api", DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix },
        process.env.PROFILE_API
          ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_API}`] }
          : {},
      ),
      startBenchService("ours", {
        ROLE: "worker",
        DATABASE_URL: env.databaseUrl,
        QUEUE_PREFIX: prefix,
      }),
    ]);
    return { api, all: [api, worker] };
  }, env.databaseUrl);
  await dropPrefix(prefix);

  const figures: Record<string, Figure> = {
    waiters_rss_mb: compared(
      ours.rssWaitingMb,
      `MB resident, API process holding ${WAITERS} waiters (${ours.rssIdleMb} MB before them; the bare pipeline ${ceiling.rssIdleMb} MB before)`,
      ceiling.rssWaitingMb,
      { text: "< 300 MB", met: (value) => value < 300 },
    ),
    waiters_idle_statements: compared(
      ours.idleStatements,
      `statements the API process ran in ${IDLE_SECONDS} s of waiting`,
      ceiling.idleStatements,
      { text: "0", met: (value) => value === 0 },
    ),
    waiters_last_answer_ms: compared(
      ours.lastAnswerMs,
      `ms from the first of ${WAITERS} events sent to the last waiter answered`,
      ceiling.lastAnswerMs,
      { text: "< 2000 ms", met: (value) => value < 2000 },
    ),
    waiters_after_last_event_ms: compared(
      ours.afterLastAcceptedMs,
      "ms from the last event's 202 to the last waiter answered",
      ceiling.afterLastAcceptedMs,
    ),
    waiters_failures: failuresFigure(ours.failures, ceiling.failures),
  };
  return figures;
};
