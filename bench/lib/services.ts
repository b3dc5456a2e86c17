import { spawnSync } from "node:child_process";
import path from "node:path";
import { build } from "esbuild";
import { Redis } from "ioredis";
import { freePort } from "../../test/helpers/process.js";
import { rpcClient } from "./ipc.js";
import { answers200, type Child, printed, ROOT, startNode, stop } from "./processes.js";
import { BENCH_SECRET, BENCH_TOKEN } from "./sign.js";

export const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/seam_projector_bench";
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

const OUT_DIR = path.join(ROOT, "bench/.build");

/** The bench's own servers (ceilings and baselines), each built to OUT_DIR/<name>.mjs. */
const BENCH_SERVERS = {
  "bare-route": "bench/servers/bare-route.ts",
  "bare-enqueue": "bench/servers/bare-enqueue.ts",
  "baseline-pipeline": "bench/servers/baseline-pipeline.ts",
  "noop-worker": "bench/servers/noop-worker.ts",
  "bare-project": "bench/servers/bare-project.ts",
  "statement-counter": "bench/servers/statement-counter.ts",
  "bare-relay": "bench/servers/bare-relay.ts",
  "bare-hold": "bench/servers/bare-hold.ts",
} as const;

/**
 * What the bench runs: seam-projector's production build (`npm run build`, run as
 * `node dist/main.js`, as the image runs it; BENCH_MAIN names another build, to measure a
 * before and an after), and the bench's own servers and load generator, bundled by esbuild
 * (tsx's own compiler) so that they too run on plain `node`.
 */
export const buildAll = async () => {
  if (process.env.BENCH_MAIN === undefined) {
    const built = spawnSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
    if (built.status !== 0) throw new Error("npm run build failed");
  }
  await build({
    entryPoints: {
      ...Object.fromEntries(
        Object.entries(BENCH_SERVERS).map(([name, file]) => [name, path.join(ROOT, file)]),
      ),
      "seam-sim": path.join(ROOT, "bench/servers/seam-sim.ts"),
      "load-client": path.join(ROOT, "bench/load/client.ts"),
    },
    outdir: OUT_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
};

export const OURS_ENTRY = process.env.BENCH_MAIN ?? path.join(ROOT, "dist/main.js");

export type Service = { child: Child; url: string };

/**
 * BENCH_OURS_ENV (`NAME=value,NAME=value`): more environment for every seam-projector the bench
 * starts, to try a setting before changing its default. A run with it measures something other
 * than the defaults, so its figures are for comparing, not for bench/README.md.
 */
const oursEnv = (): Record<string, string> =>
  Object.fromEntries(
    (process.env.BENCH_OURS_ENV ?? "")
      .split(",")
      .filter((pair) => pair.includes("="))
      .map((pair) => [pair.slice(0, pair.indexOf("=")).trim(), pair.slice(pair.indexOf("=") + 1)]),
  );

/**
 * seam-projector as users run it: `node dist/main.js`, NODE_ENV=production, the default log
 * level unless `env` sets one; ready once `/readyz` answers 200, as an orchestrator would see.
 */
export const startOurs = async (
  name: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<Service> => {
  const port = await freePort();
  const child = startNode(
    name,
    OURS_ENTRY,
    {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL,
      REDIS_URL,
      SEAM_WEBHOOK_SECRET: BENCH_SECRET,
      API_TOKENS: BENCH_TOKEN,
      ...env,
      ...oursEnv(),
    },
    { nodeArgs },
  );
  const url = `http://127.0.0.1:${port}`;
  await answers200(child, `${url}/readyz`);
  return { child, url };
};

/** One of the bench's own servers (a ceiling or a baseline), ready once it prints `listening`. */
export const startBenchServer = async (
  name: keyof typeof BENCH_SERVERS,
  env: Record<string, string>,
): Promise<Service> => {
  const port = await freePort();
  const child = startNode(name, path.join(OUT_DIR, `${name}.mjs`), {
    PORT: String(port),
    DATABASE_URL,
    REDIS_URL,
    SEAM_WEBHOOK_SECRET: BENCH_SECRET,
    ...env,
  });
  await printed(child, name === "statement-counter" ? "port " : "listening");
  return { child, url: `http://127.0.0.1:${port}` };
};

export type LoadProcess = {
  child: Child;
  call: ReturnType<typeof rpcClient>["call"];
};

/** A bundled entry in a process of its own, driven over IPC (bench/lib/ipc.ts). */
const startRpcProcess = async (
  name: string,
  entry: "load-client" | "seam-sim",
  env: Record<string, string> = {},
): Promise<LoadProcess> => {
  const child = startNode(name, path.join(OUT_DIR, `${entry}.mjs`), env, { ipc: true });
  const rpc = rpcClient(child.process);
  await rpc.ready;
  return { child, call: rpc.call };
};

/** A load generator in a process of its own (bench/load/client.ts). */
export const startLoad = (name: string) => startRpcProcess(name, "load-client");

/**
 * The Seam simulator in a process of its own (bench/servers/seam-sim.ts), its deletes taking
 * `deleteDelayMs` (min, max) to complete; its endpoint and API key with it.
 */
export const startSimProcess = async (name: string, deleteDelayMs: [number, number]) => {
  const sim = await startRpcProcess(name, "seam-sim", {
    SIM_DELETE_DELAY_MS: deleteDelayMs.join(","),
  });
  const { result } = await sim.call<{ url: string; apiKey: string }>("endpoint");
  return { ...sim, ...result };
};

export const stopAll = async (...children: (Service | LoadProcess | undefined)[]) => {
  await Promise.all(children.map((c) => (c === undefined ? undefined : stop(c.child))));
};

/** Deletes every key under a queue prefix. */
export const dropPrefix = async (prefix: string) => {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
};

/** `--cpu-prof` into the folder that the environment variable `name` gives, if it is set. */
export const profileArgs = (name: string): string[] => {
  const dir = process.env[name];
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
};
