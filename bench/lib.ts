import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import autocannon from "autocannon";
import { Webhook } from "svix";
import {
  type ServiceProcess,
  spawnChild,
  spawnService,
  stopService,
} from "../test/helpers/process.js";
import { waitFor } from "../test/helpers/wait-for.js";
import { benchEntry } from "./build.js";

export type Figure = {
  value: number;
  unit: string;
  ceiling?: number;
  ratio?: number;
  goal?: string;
  met?: boolean;
  /** For the polling baseline (figure 5): seam-projector's own figure, set beside it. */
  beside?: { value: number; of: string };
};

const BENCH_SECRET = "whsec_YmVuY2gtc2VjcmV0LWZvci1zZWFtLXByb2plY3Rvcg==";

/**
 * Pre-signs deliveries so the load generator spends its core sending, not hashing. Uses
 * node:crypto's HMAC, checked once against svix's own `sign` so the two cannot drift.
 */
export const presign = (bodies: string[], secret = BENCH_SECRET) => {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const timestamp = Math.floor(Date.now() / 1000);
  const signed = bodies.map((body) => {
    const id = `msg_${randomUUID()}`;
    const signature = createHmac("sha256", key)
      .update(`${id}.${timestamp}.${body}`)
      .digest("base64");
    return {
      body,
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": String(timestamp),
        "svix-signature": `v1,${signature}`,
      },
    };
  });
  const sample = signed[0];
  if (sample) {
    const expected = new Webhook(secret).sign(
      sample.headers["svix-id"],
      new Date(timestamp * 1000),
      sample.body,
    );
    if (expected !== sample.headers["svix-signature"])
      throw new Error("presign disagrees with svix");
  }
  return signed;
};

export type LoadResult = {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
};

/**
 * Sends the pre-signed deliveries in turn at `connections` concurrent connections, for a time
 * or until `amount` requests are answered.
 */
export const load = async (
  url: string,
  deliveries: { body: string; headers: Record<string, string> }[],
  options: { connections: number } & ({ durationSeconds: number } | { amount: number }),
): Promise<LoadResult> => {
  let next = 0;
  const result = await autocannon({
    url,
    connections: options.connections,
    ...("amount" in options ? { amount: options.amount } : { duration: options.durationSeconds }),
    requests: [
      {
        method: "POST",
        setupRequest: (request) => {
          const delivery = deliveries[next % deliveries.length];
          next += 1;
          return { ...request, body: delivery?.body, headers: delivery?.headers };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
};

const ratio = (value: number, ceiling: number) => Math.round((value / ceiling) * 1000) / 1000;

/** Requests refused or waiters not answered ready: any at all is a failed run. */
export const failuresFigure = (ours: number, bare: number): Figure => ({
  value: ours,
  unit: `non-202 webhooks or waiters not answered ready (bare pipeline: ${bare})`,
  goal: "0",
  met: ours === 0,
});

/**
 * A figure measured beside its ceiling (or the bare pipeline's same figure), with the ratio and,
 * where the issue sets one, the goal and whether it is met.
 */
export const compared = (
  value: number,
  unit: string,
  ceiling: number,
  goal?: { text: string; met: (value: number, ratio: number) => boolean },
): Figure => {
  const r = ceiling === 0 ? Number.NaN : ratio(value, ceiling);
  return {
    value,
    unit,
    ceiling,
    ...(Number.isNaN(r) ? {} : { ratio: r }),
    ...(goal ? { goal: goal.text, met: goal.met(value, r) } : {}),
  };
};

export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
};

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux only). */
const cpuMsOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SECOND);
  } catch {
    return undefined; // gone
  }
};

/** Linux reports process CPU time in clock ticks; 100 a second on every usual build. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The pids of every process whose command name is `name` (redis-server, postgres). */
const pidsNamed = (name: string): number[] =>
  readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);

/** The local Redis and Postgres servers (every Postgres backend: the cluster is shared). */
export const SERVER_PROCESSES = {
  redis: () => pidsNamed("redis-server"),
  postgres: () => pidsNamed("postgres"),
};

/**
 * Starts measuring the CPU that groups of processes use; the function it returns tells, for
 * each group, the ms of CPU used since the start and the per cent of one core. Each group lists
 * its pids at both ends: a process that starts meanwhile (a Postgres backend) counts from its
 * start, one that ends meanwhile is left out.
 */
export const cpuMeter = <K extends string>(groups: Record<K, () => number[]>) => {
  const keys = Object.keys(groups) as K[];
  const sample = () =>
    keys.map((key) => {
      const used = new Map<number, number>();
      for (const pid of groups[key]()) {
        const ms = cpuMsOf(pid);
        if (ms !== undefined) used.set(pid, ms);
      }
      return used;
    });
  const before = sample();
  const started = performance.now();
  return () => {
    const after = sample();
    const elapsedMs = performance.now() - started;
    const ms = {} as Record<K, number>;
    const percent = {} as Record<K, number>;
    keys.forEach((key, i) => {
      let used = 0;
      for (const [pid, now] of after[i] ?? []) used += now - (before[i]?.get(pid) ?? 0);
      ms[key] = used;
      percent[key] = Math.round((100 * used) / elapsedMs);
    });
    return { ms, percent };
  };
};

/** The bench's API token (16+ characters, as the service requires). */
export const BENCH_TOKEN = "bench-token-not-for-production";

const children = new Set<ServiceProcess>();

/** Ends every child the bench started, by pid: on success, on failure and on Ctrl-C alike. */
export const killBenchChildren = () => {
  for (const child of children) {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill("SIGKILL");
    }
  }
  children.clear();
};

/**
 * Starts seam-projector (`ours`, ROLE=all unless `env` says otherwise) or the bare pipeline as a
 * child process and waits until it answers; the bench remembers it so a failure cannot leave it
 * running.
 */
export const startBenchService = async (
  entry: "ours" | "bare" | "bare-server" | "noop-worker",
  env: Record<string, string>,
  options: { nodeArgs?: string[] } = {},
): Promise<ServiceProcess> => {
  const service = await spawnService(
    {
      ROLE: "all",
      LOG_LEVEL: "warn",
      SEAM_WEBHOOK_SECRET: BENCH_SECRET,
      API_TOKENS: BENCH_TOKEN,
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      ...env,
    },
    {
      entry: benchEntry(entry === "ours" ? "main" : entry === "bare" ? "bare-pipeline" : entry),
      ...options,
    },
  );
  children.add(service);
  let exited = false;
  void service.exited.then(() => {
    exited = true;
  });
  await waitFor(
    async () => {
      if (exited) throw new Error(`${entry} exited:\n${service.output()}`);
      if (entry !== "ours") return service.output().includes("listening");
      return (await fetch(`${service.url}/readyz`)).ok;
    },
    { timeoutMs: 30_000, message: `${entry} ready` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${service.output()}`);
  });
  return service;
};

export const stopBenchService = async (service: ServiceProcess) => {
  await stopService(service);
  children.delete(service);
};

/**
 * The statement-counting proxy in a process of its own (bench/statement-counter.ts), remembered
 * like the services so that it ends with the bench. `statements` is its last report (every 50 ms).
 */
export const startCounterProcess = async (target: { host: string; port: number }) => {
  const counter = spawnChild(process.execPath, [benchEntry("statement-counter")], {
    env: { ...process.env, PG_HOST: target.host, PG_PORT: String(target.port) },
  });
  const handle = { ...counter, url: "" };
  children.add(handle);
  const port = await waitFor(() => /port (\d+)/.exec(counter.output())?.[1], {
    timeoutMs: 10_000,
    message: "statement counter",
  });
  return {
    port: Number(port),
    get statements() {
      const reports = counter.output().match(/statements (\d+)/g) ?? [];
      return Number(reports.at(-1)?.split(" ")[1] ?? 0);
    },
    close: () => stopBenchService(handle),
  };
};
