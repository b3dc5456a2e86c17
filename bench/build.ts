import path from "node:path";
import { build } from "esbuild";
import { ROOT } from "../test/helpers/process.js";

/** Where the bundles go: two levels below the root, as dist/ files are, so `../../drizzle` holds. */
const OUT_DIR = path.join(ROOT, "bench/.build");

/**
 * Bundles seam-projector and the bench's own servers into plain JavaScript, so the processes the
 * bench measures run on `node` alone, as the Docker image runs dist/main.js: under `tsx`, a
 * process also carries tsx's loader thread (a second V8 isolate, tens of MB of resident memory)
 * and compiles on start. esbuild is tsx's own compiler; dependencies stay in node_modules.
 */
export const buildBenchEntries = async () => {
  await build({
    entryPoints: {
      main: path.join(ROOT, "src/main.ts"),
      "bare-server": path.join(ROOT, "bench/bare-server.ts"),
      "bare-pipeline": path.join(ROOT, "bench/bare-pipeline.ts"),
      "noop-worker": path.join(ROOT, "bench/noop-worker.ts"),
      "statement-counter": path.join(ROOT, "bench/statement-counter.ts"),
    },
    outdir: OUT_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    // Keeps a dynamic import lazy, as node runs it from dist/ (main.ts loads the projector so).
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: false,
    logLevel: "warning",
  });
};

/** The bundle of one entry, for spawnService's `entry`. */
export const benchEntry = (
  name: "main" | "bare-server" | "bare-pipeline" | "noop-worker" | "statement-counter",
) => path.join("bench/.build", `${name}.mjs`);
