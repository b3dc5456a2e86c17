import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
/** A run of some sections merges their figures into the committed results (BENCH_MERGE=1). */
const MERGE = process.env.BENCH_MERGE === "1";
if (process.env.BENCH_OURS_ENV && (MERGE || process.argv.length <= 2)) {
  // Figures of other settings than the defaults must not become the published ones.
  throw new Error("BENCH_OURS_ENV is for trying settings: name sections, and no BENCH_MERGE");
}

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
  // sections writes beside them, or, with BENCH_MERGE=1, replaces those sections' figures in
  // them and says when they were measured, leaving every other figure as the full run took it.
  const latest = path.join(ROOT, "bench/results/latest.json");
  const out = only.length === 0 || MERGE ? latest : path.join(ROOT, "bench/results/partial.json");
  const written = only.length > 0 && MERGE ? mergeInto(latest, only, result) : result;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(written, null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(ROOT, out)}\n`);
  if (out === latest) writeBenchReadme();
};

/**
 * The committed results with the figures of `sections` replaced by this run's (a section's
 * figures are those named after it: `idle-wake` → `idle_wake_…`), and, per section, when and in
 * how many rounds this run measured it.
 */
const mergeInto = (
  latestPath: string,
  sections: string[],
  run: { measured_at: string; rounds: number; figures: Record<string, Figure> },
) => {
  const latest = JSON.parse(readFileSync(latestPath, "utf8")) as {
    figures: Record<string, Figure>;
    measured_separately?: Record<string, { measured_at: string; rounds: number }>;
  };
  const prefixes = sections.map((name) => `${name.replaceAll("-", "_")}_`);
  const kept = Object.entries(latest.figures).filter(
    ([name]) => !prefixes.some((prefix) => name.startsWith(prefix)),
  );
  const separately = { ...latest.measured_separately };
  for (const name of sections) {
    separately[name.replaceAll("-", "_")] = { measured_at: run.measured_at, rounds: run.rounds };
  }
  return {
    ...latest,
    figures: { ...Object.fromEntries(kept), ...run.figures },
    measured_separately: separately,
  };
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
