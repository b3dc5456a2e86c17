import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureDatabase, migrateDatabase } from "../src/db/migrate.js";
import type { Figure } from "./lib/figures.js";
import { killAll, ROOT } from "./lib/processes.js";
import { buildAll, DATABASE_URL, OURS_ENTRY } from "./lib/services.js";
import { benchEndToEnd } from "./sections/e2e.js";
import { benchExecution } from "./sections/execution.js";
import { benchIdleWake } from "./sections/idle-wake.js";
import { benchIngest } from "./sections/ingest.js";
import { benchPolling } from "./sections/polling.js";
import { benchProjection } from "./sections/projection.js";
import { benchWaiters } from "./sections/waiters.js";
import { writeBenchReadme } from "./table.js";

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

const sections: Record<string, (rounds: number) => Promise<Record<string, Figure>>> = {
  ingest: benchIngest,
  projection: benchProjection,
  e2e: benchEndToEnd,
  "idle-wake": benchIdleWake,
  waiters: benchWaiters,
  polling: benchPolling,
  execution: benchExecution,
};

const main = async () => {
  const started = Date.now();
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !(name in sections));
  if (unknown.length > 0) {
    throw new Error(
      `unknown section ${unknown.join(", ")}; sections: ${Object.keys(sections).join(", ")}`,
    );
  }
  await buildAll();
  await ensureDatabase(DATABASE_URL);
  await migrateDatabase(DATABASE_URL);
  const figures: Record<string, Figure> = {};
  for (const [name, run] of Object.entries(sections)) {
    if (only.length > 0 && !only.includes(name)) continue;
    Object.assign(figures, await run(ROUNDS));
  }
  const result = {
    measured_at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      total_memory_mb: Math.round(os.totalmem() / 2 ** 20),
    },
    measured: path.relative(ROOT, OURS_ENTRY),
    rounds: ROUNDS,
    sections: only.length > 0 ? only : Object.keys(sections),
    duration_seconds: Math.round((Date.now() - started) / 1000),
    figures,
  };
  // Only a full run replaces the committed results (and bench/README.md); a run of some
  // sections writes beside them.
  const out = path.join(ROOT, `bench/results/${only.length > 0 ? "partial" : "latest"}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(ROOT, out)}\n`);
  if (only.length === 0) writeBenchReadme();
};

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
