import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Figure, GENERATOR_BOUND_PERCENT } from "./lib/figures.js";
import { ROOT } from "./lib/processes.js";

/**
 * Writes bench/README.md from bench/results/latest.json: the method, then every figure as the
 * last full run measured it. `npm run bench` calls it last; `npm run bench:table` alone
 * rewrites the page from the committed results. Never edit the page by hand.
 */

type Results = {
  measured_at: string;
  machine: { cpus: number; node: string; total_memory_mb: number };
  measured: string;
  rounds: number;
  duration_seconds: number;
  figures: Record<string, Figure>;
  /** Sections a later run of their own measured (`BENCH_MERGE=1`), by figure prefix. */
  measured_separately?: Record<string, { measured_at: string; rounds: number }>;
};

const SECTIONS: [prefix: string, title: string, what: string][] = [
  [
    "ingest",
    "Ingest",
    "Signed webhooks with unique event ids at 50 connections for 8 s (after a 2 s warm-up), from wrk (two threads; autocannon where wrk is not installed, which cannot load the bare route: it needs a whole core for ~40,000 req/s) in a process of its own. Ceiling: a bare Hono route on the same adapter reading the same body from the Node request and answering 202 JSON. Ours: the API role (verify, then the durable enqueue into Redis). Shown at the default log level (`info`, one access-log line per request) and at `warn`. Beside them, the enqueue floor (`bench/servers/bare-enqueue.ts`): the bare route plus only what a route that answers once the event is durable must do (the service's verifier, a JSON parse, the service's own group-committed BullMQ enqueue), so that the gap to the bare route splits into the queue's share and the service's.",
  ],
  [
    "projection",
    "Projection",
    "50,000 queued events (identity lifecycles: creations, reissues, invalidations, deletions) drained into Postgres by the worker role at its defaults, from emptied tables each round. Ceiling: a BullMQ worker whose processor does nothing, at the best of several concurrencies, each with its writes to Redis apart and together (the completions of one event-loop turn in one write, as the service sends a batch's), all tried in every round. Beside it, the store floor (`bench/servers/bare-project.ts`): the same worker at the service's defaults, with the service's batcher, storing each batch's ids and bodies in one autocommitted insert and nothing else (its batch's completions in one write too), so that the gap to the no-op worker splits into storing the events and the projection.",
  ],
  [
    "e2e",
    "End to end at 1,000 events/s",
    "The service in one process (ROLE=all). One load process holds a long-poll per identity, another sends the identities' deletion events at 1,000/s, interleaved; measured from sending an identity's last event to its long-poll's answer, after a 3 s warm-up. Baseline: a naive pipeline of the same parts (one job and one statement per event, no event log, no ordering rules, no race handling): it does less than ours and is faster on some figures, slower on others, so it is a baseline, not a ceiling. The `e2e_split_` figures run the service as docker-compose.yml does, an API process and a worker process, for what the second process buys on two cores; the goals are judged on the one process, as the baseline runs.",
  ],
  [
    "idle_wake",
    "Idle wake",
    "On an otherwise idle service, one identity at a time: a long-poll, then its one deletion webhook; from sending the webhook to the long-poll's answer.",
  ],
  [
    "waiters",
    "10,000 waiters",
    "An API process and a worker process. One load process holds 10,000 long-polls (then, in a second pass, 10,000 SSE streams), the API's database connections passing through a statement counter in a process of its own; after 5 s of waiting, another load process sends the 10,000 events that make them ready, at 50 connections. Memory floor: Node's own HTTP server keeping the same 10,000 long-polls by identity and nothing else (`bench/servers/bare-hold.ts`), held by the same load process over the same window: what any process holding them on Node takes. Added to the API process's own idle reading, it bounds what the API process could reach holding them: the goal of 200 MB lies below that bound when the idle process takes more than about 90 MB.",
  ],
  [
    "polling",
    "The polling loop it replaces",
    "Seam's documented way to wait: `events.list` once a second per identity until every deletion event has appeared, against a local stand-in that publishes them at random moments over 8 s. This measures the loop, not a server.",
  ],
  [
    "execution",
    "Executing a deletion in Seam",
    "The service (ROLE=all) runs a stepwise execution (`\"execute\": true`) against the Seam simulator (`sim/`, in a process of its own, posting its signed webhooks to the service), one identity after another on an otherwise idle service (`BENCH_EXECUTIONS`, default 50, after 3 not counted), each simulated delete taking 20 to 200 ms to complete and be reported (`BENCH_SIM_DELETE_DELAY_MS`, the figures say which). The simulator runs in a process of its own, so that nothing else on its event loop delays its stamps. The step wake is taken on the simulator's own monotonic clock, from its sending of the last `acs_credential.deleted` webhook of an identity to its receiving that identity's `/acs/users/delete`. Ceiling: a bare relay that sends that delete as soon as it has parsed the webhook. The requests per execution are the simulator's count of every request; baseline: Seam's guide run by its polling loop against a simulator of its own, for as many identities of the same shape.",
  ],
];

const num = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? "" : value.toLocaleString("en-US");
const range = (value: number | undefined, min: number | undefined, max: number | undefined) =>
  value === undefined ? "" : min === max ? num(value) : `${num(value)} (${num(min)}–${num(max)})`;

const row = (name: string, f: Figure) => {
  const against =
    f.ceiling !== undefined
      ? `ceiling ${range(f.ceiling, f.ceiling_min, f.ceiling_max)}`
      : f.baseline !== undefined
        ? `baseline ${range(f.baseline, f.baseline_min, f.baseline_max)}`
        : "";
  const ratio = f.ratio === undefined ? "" : range(f.ratio, f.ratio_min, f.ratio_max);
  const goal = f.goal === undefined ? "" : `${f.goal}: ${f.met ? "met" : "**missed**"}`;
  const generator = [
    f.generator_cpu_percent === undefined ? "" : `${f.generator_cpu_percent}%`,
    f.ceiling_generator_cpu_percent === undefined
      ? ""
      : `ceiling's ${f.ceiling_generator_cpu_percent}%`,
  ]
    .filter(Boolean)
    .join(", ");
  const bound = f.bound_by_generator ? " **generator-bound**" : "";
  const unit = f.note ? `${f.unit}; ${f.note}` : f.unit;
  return `| \`${name}\` | ${range(f.value, f.min, f.max)} | ${against} | ${ratio} | ${goal} | ${generator}${bound} | ${unit} |`;
};

export const renderBenchReadme = (results: Results): string => {
  const lines = [
    "# Benchmarks",
    "",
    "<!-- Generated by `npm run bench:table` from bench/results/latest.json; do not edit. -->",
    "",
    "`npm run bench` measures seam-projector's production build (`npm run build`, run as `node dist/main.js` with `NODE_ENV=production` and the default log level) against ceilings and baselines measured in the same run, then rewrites this page. `npm run bench -- ingest e2e` runs some sections only and writes `bench/results/partial.json` instead; with `BENCH_MERGE=1` it replaces those sections' figures here, and each says when it was measured.",
    "",
    "How every figure is taken:",
    "- **Rounds.** Each figure is the median of its rounds (`BENCH_ROUNDS`, default 3), with the lowest and highest in brackets. Rounds interleave what is compared: ceiling, ours, ceiling, ours …",
    "- **Ceilings and baselines.** A ceiling is the least work the service must do, done the fastest way; the ratio is ours over the ceiling, round by round (median and spread of those ratios). A figure that beat its ceiling would mean the ceiling is wrong. A baseline is something to compare with that is not a ceiling.",
    `- **Load generators** run in processes of their own (\`bench/load/client.ts\`), never in one that holds waiters or runs what is measured; where a figure has one, the table gives the share of one core it used while measuring, and marks the figure **generator-bound** above ${GENERATOR_BOUND_PERCENT}%: then it says more about the generator than about the server.`,
    "- **Times across processes** are taken on CLOCK_MONOTONIC (`process.hrtime`), which every process on the machine shares.",
    "- **Machine.** These machines have 2 cores, shared by the service, Redis, Postgres and the load generators, and they are noisy: read the spread before a median.",
    "",
    `Last full run: ${results.measured_at}, ${results.rounds} rounds, ${Math.round(results.duration_seconds / 60)} min; ${results.machine.cpus} cores, ${Math.round(results.machine.total_memory_mb / 1024)} GiB, Node ${results.machine.node}; measured \`${results.measured}\`.`,
    "",
  ];
  for (const [prefix, title, what] of SECTIONS) {
    const entries = Object.entries(results.figures).filter(([name]) => name.startsWith(prefix));
    if (entries.length === 0) continue;
    lines.push(`## ${title}`, "", what, "");
    const separately = results.measured_separately?.[prefix];
    if (separately) {
      lines.push(
        `Measured apart from the full run: ${separately.measured_at}, ${separately.rounds} round${separately.rounds === 1 ? "" : "s"}.`,
        "",
      );
    }
    lines.push("| figure | median (min–max) | against | ratio | goal | generator CPU | unit |");
    lines.push("|---|---|---|---|---|---|---|");
    for (const [name, f] of entries) lines.push(row(name, f));
    // Each ceiling or baseline once, in the order the figures name them.
    const against = [...new Set(entries.map(([, f]) => f.ceiling_is ?? f.baseline_is))].filter(
      (is) => is !== undefined,
    );
    if (against.length > 0) lines.push("", `Against: ${against.join("; ")}.`);
    lines.push("");
  }
  return `${lines.join("\n")}`;
};

export const writeBenchReadme = () => {
  const results = JSON.parse(
    readFileSync(path.join(ROOT, "bench/results/latest.json"), "utf8"),
  ) as Results;
  writeFileSync(path.join(ROOT, "bench/README.md"), renderBenchReadme(results));
  process.stdout.write("wrote bench/README.md\n");
};

if (process.argv[1] === fileURLToPath(import.meta.url)) writeBenchReadme();
