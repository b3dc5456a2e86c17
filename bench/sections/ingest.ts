import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type Figure, figure, NONE_IN_ANY_ROUND, pick, progress } from "../lib/figures.js";
import {
  dropPrefix,
  type LoadProcess,
  profileArgs,
  type Service,
  startBenchServer,
  startLoad,
  startOurs,
  stopAll,
} from "../lib/services.js";

const CONNECTIONS = 50;
/**
 * wrk where it is installed (`apt-get install wrk`): autocannon, in JavaScript, used a whole
 * core to send ~40,000 req/s and so could not load the bare route; wrk sends as many in a
 * fraction of one. Without wrk, autocannon, and the figures say so.
 */
const GENERATOR = spawnSync("wrk", ["--version"]).error === undefined ? "wrk" : "autocannon";
const WARMUP_SECONDS = 2;
const DURATION_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 8);

type Round = {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  generatorCpu: number;
  serverCpu: number;
};

/** One measurement of `service` with unique signed webhooks from the load process. */
const measure = async (load: LoadProcess, service: Service): Promise<Round> => {
  const { result, cpuPercent, watchedCpuPercent } = await load.call<{
    requestsPerSecond: number;
    p50: number;
    p99: number;
    non2xx: number;
    errors: number;
    generatorCpuPercent?: number;
  }>(GENERATOR === "wrk" ? "ingestWrk" : "ingest", {
    url: `${service.url}/webhooks/seam`,
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    durationSeconds: DURATION_SECONDS,
    count: 20_000 * (WARMUP_SECONDS + DURATION_SECONDS),
    watch: [service.child.pid],
  });
  return {
    rps: Math.round(result.requestsPerSecond),
    p50: result.p50,
    p99: result.p99,
    failed: result.non2xx + result.errors,
    generatorCpu: result.generatorCpuPercent ?? cpuPercent,
    serverCpu: watchedCpuPercent[String(service.child.pid)] ?? Number.NaN,
  };
};

const describe = (name: string, r: Round) =>
  `  ${name.padEnd(26)} ${r.rps} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  failed ${r.failed}  CPU: server ${r.serverCpu}%, generator ${r.generatorCpu}%`;

/**
 * Signed webhooks with unique event ids at 50 connections, against the bare Hono route that
 * reads the same body (the ceiling) and seam-projector's API role (verify, then the durable
 * enqueue), at the default log level and at `warn`. Rounds interleave ceiling and ours.
 */
export const benchIngest = async (rounds: number): Promise<Record<string, Figure>> => {
  const load = await startLoad("ingest-load");
  const results = {
    ceiling: [] as Round[],
    floor: [] as Round[],
    info: [] as Round[],
    warn: [] as Round[],
  };
  try {
    for (let round = 1; round <= rounds; round += 1) {
      progress(`ingest: round ${round} of ${rounds}`);
      const bare = await startBenchServer("bare-route", {});
      const ceiling = await measure(load, bare);
      results.ceiling.push(ceiling);
      await stopAll(bare);
      progress(describe("bare route (ceiling)", ceiling));
      const floorPrefix = `bench-ingest-${randomBytes(4).toString("hex")}`;
      const bareEnqueue = await startBenchServer("bare-enqueue", { QUEUE_PREFIX: floorPrefix });
      const floor = await measure(load, bareEnqueue);
      results.floor.push(floor);
      await stopAll(bareEnqueue);
      await dropPrefix(floorPrefix);
      progress(describe("enqueue floor", floor));
      for (const level of ["info", "warn"] as const) {
        const prefix = `bench-ingest-${randomBytes(4).toString("hex")}`;
        const api = await startOurs(
          `api-${level}`,
          { ROLE: "api", QUEUE_PREFIX: prefix, ...(level === "warn" ? { LOG_LEVEL: "warn" } : {}) },
          profileArgs("PROFILE_API"),
        );
        const ours = await measure(load, api);
        results[level].push(ours);
        await stopAll(api);
        await dropPrefix(prefix);
        progress(describe(`seam-projector (${level})`, ours));
      }
    }
  } finally {
    await stopAll(load);
  }
  const ceilingIs = "bare Hono route reading the same body, @hono/node-server 2";
  const rows = (level: "info" | "warn", label: string): Record<string, Figure> => ({
    [`ingest_requests_per_second${label}`]: figure({
      unit: `req/s, signed unique webhooks at ${CONNECTIONS} connections from ${GENERATOR} (LOG_LEVEL=${level})`,
      ours: pick(results[level], "rps"),
      ceiling: { values: pick(results.ceiling, "rps"), is: ceilingIs },
      goal: { text: "ratio >= 0.50", met: (_, r) => (r ?? 0) >= 0.5 },
      generatorCpu: pick(results[level], "generatorCpu"),
      ceilingGeneratorCpu: pick(results.ceiling, "generatorCpu"),
    }),
    [`ingest_p50_ms${label}`]: figure({
      unit: `ms (LOG_LEVEL=${level})`,
      ours: pick(results[level], "p50"),
      ceiling: { values: pick(results.ceiling, "p50"), is: ceilingIs },
    }),
    [`ingest_p99_ms${label}`]: figure({
      unit: `ms (LOG_LEVEL=${level}); ratio = times the bare route's p99 in the same round`,
      ours: pick(results[level], "p99"),
      ceiling: { values: pick(results.ceiling, "p99"), is: ceilingIs },
      goal: { text: "<= 2 x the bare route's p99", met: (_, r) => (r ?? 99) <= 2 },
    }),
    [`ingest_server_cpu_percent${label}`]: figure({
      unit: `% of one core the server used (LOG_LEVEL=${level})`,
      ours: pick(results[level], "serverCpu"),
      ceiling: { values: pick(results.ceiling, "serverCpu"), is: ceilingIs },
    }),
    [`ingest_failed${label}`]: figure({
      unit: "non-202 answers or errors",
      ours: pick(results[level], "failed"),
      goal: NONE_IN_ANY_ROUND,
    }),
  });
  const floorIs =
    "the enqueue floor: verify, parse, the service's own addBulk enqueue, 202 (bench/servers/bare-enqueue.ts)";
  return {
    ...rows("info", ""),
    ...rows("warn", "_log_warn"),
    ingest_enqueue_floor_requests_per_second: figure({
      unit: `req/s of ${floorIs}, against the bare route: the best a route that answers once the event is in BullMQ reaches here`,
      ours: pick(results.floor, "rps"),
      ceiling: { values: pick(results.ceiling, "rps"), is: ceilingIs },
      generatorCpu: pick(results.floor, "generatorCpu"),
      ceilingGeneratorCpu: pick(results.ceiling, "generatorCpu"),
    }),
    ingest_requests_per_second_of_floor: figure({
      unit: "req/s (LOG_LEVEL=info) against the enqueue floor: what the service's own work (middleware, access log, metrics, validation, backpressure) leaves of it",
      ours: pick(results.info, "rps"),
      ceiling: { values: pick(results.floor, "rps"), is: floorIs },
    }),
    ingest_enqueue_floor_p99_ms: figure({
      unit: "ms, the enqueue floor's p99; ratio = times the bare route's p99 in the same round",
      ours: pick(results.floor, "p99"),
      ceiling: { values: pick(results.ceiling, "p99"), is: ceilingIs },
    }),
  };
};
