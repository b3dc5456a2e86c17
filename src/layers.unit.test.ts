import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));

/**
 * The layers of src/, lowest first: a folder (or a file at the top of src/) may import its own
 * layer's modules only from itself, and anything in a lower layer; never a layer above, never a
 * sibling in its own layer. `http/` is a toolkit: it sees only the bottom, never a feature. Only
 * the composition root (app.ts, roles/, main.ts, cli.ts) assembles features.
 */
const LAYERS: string[][] = [
  ["errors.ts", "log.ts", "config.ts", "util"],
  ["shared"],
  ["http"],
  // The console's page is static files: it sees the http/ toolkit, never a feature.
  ["console"],
  ["db", "redis.ts"],
  ["sql"],
  ["execution"],
  ["metrics"],
  ["ingest", "replay"],
  ["readiness", "waiters"],
  ["seam"],
  ["projector"],
  ["executor"],
  ["admin"],
  ["app.ts"],
  ["roles"],
  ["main.ts", "cli.ts"],
];

/** The unit a path inside src/ belongs to: its top folder, or the file itself at the top. */
const unitOf = (path: string) => (path.split("/")[0] ?? path).replace(/\.js$/, ".ts");
const rankOf = (unit: string) => LAYERS.findIndex((layer) => layer.includes(unit));

type Edge = { from: string; to: string };

/** Every import between two units that breaks the order, as `from -> to`. */
const violations = (edges: Edge[]): string[] =>
  edges.flatMap(({ from, to }) => {
    const [a, b] = [unitOf(from), unitOf(to)];
    if (a === b) return [];
    const [ra, rb] = [rankOf(a), rankOf(b)];
    if (ra < 0 || rb < 0) return [`${from} -> ${to} (a unit in no layer)`];
    return rb < ra ? [] : [`${from} -> ${to}`];
  });

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });

const IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/**
 * Every relative import of src/'s code that stays inside src/. Tests are left out: a test is a
 * client of the code, like the composition root, and may sign with replay/ to test ingest/.
 */
const importEdges = (): Edge[] =>
  sourceFiles(SRC)
    .filter((file) => !file.endsWith(".test.ts"))
    .flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(IMPORT)].flatMap((match) => {
        const target = relative(SRC, resolve(dirname(file), match[1] as string));
        if (target.startsWith("..")) return [];
        return [{ from: relative(SRC, file), to: target }];
      }),
    );

describe("layers", () => {
  it("finds the imports it checks", () => {
    const edges = importEdges();
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: "main.ts", to: "app.js" });
  });

  it("has no folder importing a folder above it or beside it", () => {
    expect(violations(importEdges())).toEqual([]);
  });

  it("tells an upward import, a sideways one and an unplaced folder", () => {
    expect(
      violations([
        { from: "http/app.ts", to: "readiness/routes.js" },
        { from: "waiters/routes.ts", to: "readiness/schemas.js" },
        { from: "readiness/routes.ts", to: "http/openapi.js" },
        { from: "nowhere/x.ts", to: "errors.js" },
      ]),
    ).toEqual([
      "http/app.ts -> readiness/routes.js",
      "waiters/routes.ts -> readiness/schemas.js",
      "nowhere/x.ts -> errors.js (a unit in no layer)",
    ]);
  });
});

/**
 * What a module loads before it runs, as Node will: its `import … from` and `export … from`
 * statements and bare `import "…"`, without `import type` (TypeScript drops those) or
 * `import()` (loaded later).
 */
const STATIC_IMPORT =
  /^(?:(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s*|import\s+)["']([^"']+)["']/gm;

/** Every package that loading `entry` loads, following src/'s own modules. */
const packagesLoadedBy = (entry: string): Set<string> => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      const specifier = match[1] as string;
      if (specifier.startsWith(".")) {
        visit(resolve(dirname(file), specifier).replace(/\.js$/, ".ts"));
      } else packages.add(specifier);
    }
  };
  visit(join(SRC, entry));
  return packages;
};

describe("what every process loads", () => {
  it("loads the Seam SDK and @seamapi/types' schemas only where they are used", () => {
    const loaded = [...packagesLoadedBy("main.ts")];
    // Found at all: the walk reaches the packages main.ts loads through the app.
    expect(loaded).toEqual(expect.arrayContaining(["hono", "bullmq", "postgres"]));
    // The schemas are about 35 MB resident and the SDK about a second to import: an API
    // process needs neither (roles/worker.ts and main.ts import them when they run).
    expect(loaded.filter((name) => name.startsWith("@seamapi/"))).toEqual([]);
  });
});
