import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureDatabase, migrateDatabase } from "../src/db/migrate.js";
import { ROOT } from "../test/helpers/process.js";
import { buildBenchEntries } from "./build.js";
import { benchEndToEnd } from "./e2e.js";
import { benchIngest } from "./ingest.js";
import { type Figure, killBenchChildren } from "./lib.js";
import { benchPolling } from "./polling.js";
import { benchProjection } from "./projection.js";
import { benchWaiters } from "./waiters.js";

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/seam_projector_bench";

const printTable = (figures: Record<string, Figure>) => {
  const rows = Object.entries(figures).map(([name, f]) => [
    name,
    `${f.value} ${f.unit}`,
    f.ceiling !== undefined ? `${f.ceiling}` : f.beside ? `ours: ${f.beside.value}` : "",
    f.ratio === undefined ? "" : `${f.ratio}`,
    f.goal ?? "",
    f.met === undefined ? "" : f.met ? "met" : "MISSED",
  ]);
  const header = ["figure", "value", "ceiling (or ours)", "ratio", "goal", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")}\n`);
  }
};

const main = async () => {
  const started = Date.now();
  await buildBenchEntries();
  await ensureDatabase(DATABASE_URL);
  await migrateDatabase(DATABASE_URL);
  const only = process.argv.slice(2);
  const sections: [string, () => Promise<Record<string, Figure>>][] = [
    [
      "ingest",
      () => benchIngest({ databaseUrl: DATABASE_URL, prefix: `bench-ingest-${process.pid}` }),
    ],
    [
      "projection",
      () =>
        benchProjection({ databaseUrl: DATABASE_URL, prefix: `bench-projection-${process.pid}` }),
    ],
    ["e2e", () => benchEndToEnd({ databaseUrl: DATABASE_URL, prefix: `bench-e2e-${process.pid}` })],
    [
      "waiters",
      () => benchWaiters({ databaseUrl: DATABASE_URL, prefix: `bench-waiters-${process.pid}` }),
    ],
    ["polling", () => benchPolling()],
  ];
  const figures: Record<string, Figure> = {};
  for (const [name, run] of sections) {
    if (only.length > 0 && !only.includes(name)) continue;
    Object.assign(figures, await run());
  }
  // Figure 5 is the polling loop's wake latency beside ours, when both ran.
  for (const [polling, ours] of [
    ["polling_wake_p50_ms", "e2e_wake_p50_ms"],
    ["polling_wake_p99_ms", "e2e_wake_p99_ms"],
  ] as const) {
    const figure = figures[polling];
    const own = figures[ours];
    if (figure && own) {
      figure.beside = { value: own.value, of: `seam-projector: ${ours} (figure 3, same run)` };
    }
  }
  printTable(figures);
  const result = {
    measured_at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      total_memory_mb: Math.round(os.totalmem() / 2 ** 20),
    },
    duration_seconds: Math.round((Date.now() - started) / 1000),
    figures,
  };
  // Only a full run replaces the committed results; a run of some sections writes beside them.
  const out = path.join(ROOT, `bench/results/${only.length > 0 ? "partial" : "latest"}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
};

// Whatever ends the bench, the servers and workers it started end with it.
process.on("exit", killBenchChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => process.exit(130));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
