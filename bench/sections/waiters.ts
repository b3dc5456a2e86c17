import { randomBytes } from "node:crypto";
import { makeIdentities, seedIdentities } from "../lib/events.js";
import { type Figure, figure, NONE_IN_ANY_ROUND, pick, progress } from "../lib/figures.js";
import { type Child, rssMb, sleep, until } from "../lib/processes.js";
import {
  DATABASE_URL,
  dropPrefix,
  type LoadProcess,
  profileArgs,
  type Service,
  startBenchServer,
  startLoad,
  startOurs,
  stopAll,
} from "../lib/services.js";
import { BENCH_TOKEN } from "../lib/sign.js";

const WAITERS = Number(process.env.BENCH_WAITERS ?? 10_000);
const IDLE_SECONDS = 5;
const SENDER_CONNECTIONS = 50;

type Round = {
  rssIdleMb: number;
  rssWaitingMb: number;
  kbPerWaiter: number;
  idleStatements: number;
  afterLast202Ms: number;
  firstSentToLastAnswerMs: number;
  failures: number;
  /** What the failures were: webhooks answered other than 202, sends that failed, waiters not answered ready (with their statuses). */
  failureKinds: string;
  senderCpu: number;
};

/** Statements counted so far by the counter process (its last report, every 50 ms). */
const statementsOf = (counter: Child) =>
  Number(
    counter
      .output()
      .match(/statements (\d+)/g)
      ?.at(-1)
      ?.split(" ")[1] ?? 0,
  );

/**
 * Reads the resident memory of `service` idle, then has `holder` open a waiter on it for each
 * identity; returns the idle reading (MB).
 */
const holdFromIdle = async (
  holder: LoadProcess,
  service: Service,
  identities: { id: string }[],
  mode: "poll" | "sse",
) => {
  await sleep(500);
  const rssIdleMb = rssMb(service.child.pid);
  await holder.call("hold", {
    baseUrl: service.url,
    ids: identities.map((identity) => identity.id),
    token: BENCH_TOKEN,
    mode,
  });
  return rssIdleMb;
};

/** The most resident memory `pid` reaches over the idle window, read every 500 ms. */
const peakRssOverIdleWindow = async (pid: number) => {
  let peak = 0;
  for (let waited = 0; waited < IDLE_SECONDS * 1000; waited += 500) {
    await sleep(500);
    peak = Math.max(peak, rssMb(pid));
  }
  return peak;
};

/**
 * WAITERS waiters (long-polls or SSE streams, one phone each) held by one load process, an idle
 * window, then the WAITERS events that make them all ready, sent by another load process as
 * fast as SENDER_CONNECTIONS connections go. `start` gets a database URL that passes through a
 * statement counter, for the process that holds the waiters.
 */
const measure = async (
  mode: "poll" | "sse",
  start: (countedUrl: string) => Promise<{ holder: Service; all: Service[] }>,
): Promise<Round> => {
  const identities = makeIdentities(WAITERS, ["phone"]);
  await seedIdentities(DATABASE_URL, identities);
  const target = new URL(DATABASE_URL);
  const counter = await startBenchServer("statement-counter", {
    PG_HOST: target.hostname,
    PG_PORT: target.port || "5432",
  });
  const counted = new URL(DATABASE_URL);
  counted.port = /port (\d+)/.exec(counter.child.output())?.[1] ?? "";
  const { holder: api, all } = await start(counted.toString());
  const [sender, holder] = await Promise.all([
    startLoad("waiters-sender"),
    startLoad("waiters-holder"),
  ]);
  try {
    const rssIdleMb = await holdFromIdle(holder, api, identities, mode);
    // Each waiter reads its state once as it registers; wait until those reads are over.
    let last = -1;
    await until(
      async () => {
        const now = statementsOf(counter.child);
        const settled = now === last && now >= WAITERS;
        last = now;
        if (!settled) await sleep(500);
        return settled;
      },
      { timeoutMs: 120_000, intervalMs: 1, message: "every waiter's first read" },
    );
    const statementsBefore = statementsOf(counter.child);
    const rssWaitingMb = await peakRssOverIdleWindow(api.child.pid);
    await sleep(200); // the counter's last report covers the whole window
    const idleStatements = statementsOf(counter.child) - statementsBefore;

    const answers = holder.call<{ status: number; ready: boolean; at: number }[]>("answers");
    const sent = await sender.call<{
      firstSentAt: number;
      lastAnsweredAt: number;
      non2xx: number;
      errors: number;
    }>("burst", {
      url: `${api.url}/webhooks/seam`,
      bodies: identities.map((identity) => JSON.stringify(identity.deletionEvents[0])),
      connections: SENDER_CONNECTIONS,
    });
    const answered = (await answers).result;
    const lastAnswer = Math.max(...answered.map((a) => a.at));
    const notReadyAnswers = answered.filter((a) => a.status !== 200 || !a.ready);
    const notReady = notReadyAnswers.length;
    return {
      rssIdleMb,
      rssWaitingMb,
      kbPerWaiter: Math.round(((rssWaitingMb - rssIdleMb) * 1024) / WAITERS),
      idleStatements,
      afterLast202Ms: Math.round(lastAnswer - sent.result.lastAnsweredAt),
      firstSentToLastAnswerMs: Math.round(lastAnswer - sent.result.firstSentAt),
      failures: sent.result.non2xx + sent.result.errors + notReady,
      failureKinds: `webhooks non-202 ${sent.result.non2xx}, send errors ${sent.result.errors}, waiters not ready ${notReady}${
        notReady > 0
          ? ` (status ${[...new Set(notReadyAnswers.map((a) => a.status))].join("/")})`
          : ""
      }`,
      senderCpu: sent.cpuPercent,
    };
  } finally {
    await holder.call("release").catch(() => {});
    await stopAll(sender, holder, ...all, counter);
  }
};

type FloorRound = { rssIdleMb: number; rssWaitingMb: number; kbPerWaiter: number };

/**
 * The memory floor (bench/servers/bare-hold.ts): Node's HTTP server keeping the same WAITERS
 * long-polls, held by the same load process, measured over the same idle window.
 */
const measureFloor = async (): Promise<FloorRound> => {
  const identities = makeIdentities(WAITERS, ["phone"]);
  const floor = await startBenchServer("bare-hold", {});
  const holder = await startLoad("waiters-holder");
  try {
    const rssIdleMb = await holdFromIdle(holder, floor, identities, "poll");
    await until(() => floor.child.output().includes(`held ${WAITERS}\n`), {
      timeoutMs: 60_000,
      message: "the floor holding every long-poll",
    });
    const rssWaitingMb = await peakRssOverIdleWindow(floor.child.pid);
    return {
      rssIdleMb,
      rssWaitingMb,
      kbPerWaiter: Math.round(((rssWaitingMb - rssIdleMb) * 1024) / WAITERS),
    };
  } finally {
    await holder.call("release").catch(() => {});
    await stopAll(holder, floor);
  }
};

const describe = (name: string, r: Round) =>
  `  ${name.padEnd(30)} RSS ${r.rssIdleMb} → ${r.rssWaitingMb} MB (${r.kbPerWaiter} KB a waiter)  statements while waiting ${r.idleStatements}  last 202 → last answer ${r.afterLast202Ms} ms  first sent → last answer ${r.firstSentToLastAnswerMs} ms  failures ${r.failures}${r.failures > 0 ? ` (${r.failureKinds})` : ""}  sender CPU ${r.senderCpu}%`;

/**
 * 10,000 waiters: the memory of the API process that holds them (long-polls, and SSE streams),
 * the statements it runs while they wait, and how soon the last is answered once the events
 * that make them ready are sent; seam-projector (an API process and a worker process) beside
 * the baseline pipeline holding the same long-polls.
 */
export const benchWaiters = async (rounds: number): Promise<Record<string, Figure>> => {
  const results = { baseline: [] as Round[], poll: [] as Round[], sse: [] as Round[] };
  const floors: FloorRound[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    progress(`waiters: round ${round} of ${rounds}, ${WAITERS} waiters`);
    const floor = await measureFloor();
    floors.push(floor);
    progress(
      `  ${"memory floor, long-polls".padEnd(30)} RSS ${floor.rssIdleMb} → ${floor.rssWaitingMb} MB (${floor.kbPerWaiter} KB a waiter)`,
    );
    for (const entry of ["baseline", "poll", "sse"] as const) {
      const prefix = `bench-waiters-${randomBytes(4).toString("hex")}`;
      const result = await measure(entry === "sse" ? "sse" : "poll", async (countedUrl) => {
        if (entry === "baseline") {
          const bare = await startBenchServer("baseline-pipeline", {
            QUEUE_PREFIX: prefix,
            DATABASE_URL: countedUrl,
          });
          return { holder: bare, all: [bare] };
        }
        const [api, worker] = await Promise.all([
          startOurs(
            "api",
            { ROLE: "api", QUEUE_PREFIX: prefix, DATABASE_URL: countedUrl },
            profileArgs("PROFILE_API"),
          ),
          startOurs("worker", { ROLE: "worker", QUEUE_PREFIX: prefix }),
        ]);
        return { holder: api, all: [api, worker] };
      });
      await dropPrefix(prefix);
      results[entry].push(result);
      progress(
        describe(
          entry === "baseline"
            ? "baseline pipeline, long-polls"
            : `seam-projector, ${entry === "poll" ? "long-polls" : "SSE streams"}`,
          result,
        ),
      );
    }
  }
  const baselineIs = "the baseline pipeline holding the same long-polls (not a ceiling)";
  const floorIs =
    "the memory floor: Node's HTTP server keeping the same long-polls by identity, nothing else (bench/servers/bare-hold.ts)";
  return {
    waiters_rss_mb: figure({
      unit: `MB resident, API process holding ${WAITERS} long-polls`,
      ours: pick(results.poll, "rssWaitingMb"),
      baseline: { values: pick(results.baseline, "rssWaitingMb"), is: baselineIs },
      goal: { text: "<= 200 MB", met: (value) => value <= 200 },
      note: `idle before the waiters: ${pick(results.poll, "rssIdleMb").join("/")} MB by round`,
    }),
    waiters_kb_per_long_poll: figure({
      unit: "KB of resident memory a long-poll adds",
      ours: pick(results.poll, "kbPerWaiter"),
      baseline: { values: pick(results.baseline, "kbPerWaiter"), is: baselineIs },
    }),
    waiters_rss_mb_of_floor: figure({
      unit: `MB resident, API process holding ${WAITERS} long-polls, against the memory floor: what the service keeps beyond Node's HTTP server`,
      ours: pick(results.poll, "rssWaitingMb"),
      ceiling: { values: pick(floors, "rssWaitingMb"), is: floorIs },
      note: `the floor idle before the waiters: ${pick(floors, "rssIdleMb").join("/")} MB by round`,
    }),
    // What the goal asks is bounded below by the process's own idle memory plus what Node's HTTP
    // server alone adds for the same connections: no waiter code can go under it.
    waiters_rss_mb_of_idle_plus_floor: figure({
      unit: `MB resident, API process holding ${WAITERS} long-polls, against its own idle reading plus what they add to the memory floor: what the waiters cost beyond Node's HTTP server, in a process that has loaded what the API role loads`,
      ours: pick(results.poll, "rssWaitingMb"),
      ceiling: {
        values: results.poll.map(
          (r, i) =>
            r.rssIdleMb + ((floors[i]?.rssWaitingMb ?? NaN) - (floors[i]?.rssIdleMb ?? NaN)),
        ),
        is: "the API process idle, plus the memory floor's growth over the same window (bench/servers/bare-hold.ts), round by round",
      },
    }),
    waiters_kb_per_long_poll_of_floor: figure({
      unit: "KB of resident memory a long-poll adds, against what one adds to the memory floor",
      ours: pick(results.poll, "kbPerWaiter"),
      ceiling: { values: pick(floors, "kbPerWaiter"), is: floorIs },
    }),
    waiters_sse_rss_mb: figure({
      unit: `MB resident, API process holding ${WAITERS} SSE streams`,
      ours: pick(results.sse, "rssWaitingMb"),
    }),
    waiters_kb_per_sse_stream: figure({
      unit: "KB of resident memory an SSE stream adds; goal: at most 1.5 x a long-poll",
      ours: pick(results.sse, "kbPerWaiter"),
      goal: {
        text: "<= 1.5 x a long-poll",
        met: (value) => value <= 1.5 * Math.max(1, ...pick(results.poll, "kbPerWaiter")),
      },
    }),
    waiters_idle_statements: figure({
      unit: `statements the API process ran in ${IDLE_SECONDS} s of holding the waiters`,
      ours: pick(results.poll, "idleStatements"),
      baseline: { values: pick(results.baseline, "idleStatements"), is: baselineIs },
      goal: NONE_IN_ANY_ROUND,
    }),
    waiters_last_202_to_last_answer_ms: figure({
      unit: `ms from the last of ${WAITERS} webhooks' 202 to the last long-poll answered`,
      ours: pick(results.poll, "afterLast202Ms"),
      baseline: { values: pick(results.baseline, "afterLast202Ms"), is: baselineIs },
      goal: { text: "<= 500 ms", met: (value) => value <= 500 },
      generatorCpu: pick(results.poll, "senderCpu"),
    }),
    waiters_first_sent_to_last_answer_ms: figure({
      unit: `ms from the first of ${WAITERS} webhooks sent to the last long-poll answered`,
      ours: pick(results.poll, "firstSentToLastAnswerMs"),
      baseline: { values: pick(results.baseline, "firstSentToLastAnswerMs"), is: baselineIs },
      generatorCpu: pick(results.poll, "senderCpu"),
    }),
    waiters_failures: figure({
      unit: "non-202 webhooks or waiters not answered ready (long-polls and SSE)",
      ours: results.poll.map((r, i) => r.failures + (results.sse[i]?.failures ?? 0)),
      baseline: { values: pick(results.baseline, "failures"), is: baselineIs },
      goal: NONE_IN_ANY_ROUND,
    }),
  };
};
