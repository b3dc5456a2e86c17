import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Presets, SingleBar } from "cli-progress";
import { ConfigError, LOCAL_API_TOKEN, LOCAL_WEBHOOK_SECRET, loadConfig } from "./config.js";
import { ensureDatabase, migrateDatabase } from "./db/migrate.js";
import { AppError, toError } from "./errors.js";
import { type DeleteIdentityCommand, runDeleteIdentity } from "./executor/delete-identity-cli.js";
import { FixtureError, readFixture } from "./replay/fixture.js";
import { type ReplayOptions, type ReplaySummary, replay } from "./replay/replay.js";
import type { EventsFilter } from "./seam/api.js";
import {
  BACKFILL_OPTIONS,
  BackfillError,
  type BackfillFlags,
  filterOfFlags,
} from "./seam/backfill.js";
import { UUID } from "./shared/ids.js";
import { type ExecutionStrategy, executionStrategies } from "./shared/resources.js";

const isStrategy = (value: string): value is ExecutionStrategy =>
  (executionStrategies as readonly string[]).includes(value);

const DEFAULT_SERVICE_URL = "http://127.0.0.1:3000";
export const DEFAULT_URL = `${DEFAULT_SERVICE_URL}/webhooks/seam`;

const USAGE = `Usage:
  npm run cli -- replay <file.jsonl> [options]
  npm run cli -- backfill --since <time> [--until <time>] [--limit <n>]
  npm run cli -- delete-identity <user_identity_id> [--strategy cascade] [--no-wait]
  npm run cli -- migrate

replay   Signs each event of a JSON Lines fixture (one Seam event a line) as Svix does and
         POSTs it to the webhook URL, retrying a 503 or a refused connection with backoff.
  --url <url>          webhook endpoint (default ${DEFAULT_URL})
  --secret <whsec_…>   signing secret (default: the local development secret from the README)
  --shuffle            deliver in random order
  --seed <int>         seed of the shuffle, to repeat an order (implies --shuffle)
  --duplicate <n>      deliver every event n times (default 1)
  --rate <r>           start at most r deliveries a second (default: no cap)
  --concurrency <n>    deliveries in flight at once (default 8)

backfill Reads the Seam API's /events/list from --since to --until (default: now) and enqueues
         every event not yet recorded, as webhooks are (SEAM_API_KEY, DATABASE_URL, REDIS_URL
         and QUEUE_PREFIX from the environment). A time is ISO 8601 (2026-11-28T09:00:00Z) or
         a span before now: 90m, 6h, 2d.
  --limit <n>          events per request (default 500, Seam's own default)
  --acs-user <id>      only that ACS user's events (also --user-identity, --acs-credential)

delete-identity  Asks the running service to carry out the identity's deletion in Seam
         ("execute": true; the service needs SEAM_API_KEY) and shows it step by step until it
         ends. Exit status 0 completed, 1 failed or canceled.
  --strategy <s>       stepwise (default: Seam's guide, step by step) or cascade
  --no-wait            start it and return at once
  --url <url>          the service (default ${DEFAULT_SERVICE_URL})
  --token <token>      an API token (default: $API_TOKEN, else the local development token)

migrate  Creates the database of DATABASE_URL if it is missing and applies the migrations.

Exit status: 0 done, 1 a delivery or the command failed, 2 bad arguments.
`;

export class UsageError extends Error {
  override name = "UsageError";
}

export type Command =
  | { kind: "help" }
  | { kind: "migrate" }
  | DeleteIdentityCommand
  | { kind: "backfill"; since: Date; until: Date; limit?: number; filter?: EventsFilter }
  | {
      kind: "replay";
      file: string;
      options: Omit<ReplayOptions, "onProgress" | "signal" | "stopOnFailure">;
    };

/** Same shape config.ts accepts for SEAM_WEBHOOK_SECRET: caught here, not as a 401 per event. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

const positiveNumber = (name: string, raw: string | undefined, integer: boolean) => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (
    raw.trim() === "" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `--${name} must be a positive ${integer ? "whole number" : "number"}, not "${raw}"`,
    );
  }
  return value;
};

const SPAN = /^(\d+)([mhd])$/;
const SPAN_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A point in time: ISO 8601, or a span before `now` (90m, 6h, 2d). */
const parseTime = (name: string, raw: string, now: Date): Date => {
  const span = SPAN.exec(raw);
  if (span) {
    return new Date(now.getTime() - Number(span[1]) * SPAN_MS[span[2] as keyof typeof SPAN_MS]);
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`--${name} must be an ISO 8601 time or a span like 6h, not "${raw}"`);
  }
  return new Date(ms);
};

const parseBackfill = (args: string[], now: Date): Command => {
  let values: BackfillFlags;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: BACKFILL_OPTIONS,
    }));
  } catch (error) {
    throw new UsageError(toError(error).message);
  }
  if (values.since === undefined) throw new UsageError("backfill needs --since");
  const since = parseTime("since", values.since, now);
  const until = values.until === undefined ? now : parseTime("until", values.until, now);
  if (since.getTime() >= until.getTime()) throw new UsageError("--since must be before --until");
  const limit = positiveNumber("limit", values.limit, true);
  const filter = filterOfFlags(values);
  const optional = { ...(limit === undefined ? {} : { limit }), ...(filter && { filter }) };
  return { kind: "backfill", since, until, ...optional };
};

const parseDeleteIdentity = (args: string[], env: Record<string, string | undefined>): Command => {
  let parsed: ReturnType<typeof parseDeleteArgs>;
  try {
    parsed = parseDeleteArgs(args);
  } catch (error) {
    throw new UsageError(toError(error).message);
  }
  const { values, positionals } = parsed;
  const [identityId, ...extra] = positionals;
  if (identityId === undefined || extra.length > 0) {
    throw new UsageError("delete-identity takes one user identity id");
  }
  if (!UUID.test(identityId)) {
    throw new UsageError(`the user identity id must be a UUID, not "${identityId}"`);
  }
  const strategy = values.strategy ?? "stepwise";
  if (!isStrategy(strategy)) {
    throw new UsageError(
      `--strategy must be ${executionStrategies.join(" or ")}, not "${strategy}"`,
    );
  }
  const url = values.url ?? DEFAULT_SERVICE_URL;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
  return {
    kind: "delete-identity",
    identityId: identityId.toLowerCase(),
    strategy,
    wait: values["no-wait"] !== true,
    url,
    token: values.token ?? env.API_TOKEN ?? LOCAL_API_TOKEN,
  };
};

const parseDeleteArgs = (args: string[]) =>
  parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      strategy: { type: "string" },
      "no-wait": { type: "boolean" },
      url: { type: "string" },
      token: { type: "string" },
    },
  });

/** Pure: reads the command line (without node and the script) or throws a UsageError. */
export const parseCommand = (
  argv: string[],
  now: Date = new Date(),
  env: Record<string, string | undefined> = process.env,
): Command => {
  let parsed: ReturnType<typeof parseReplayArgs>;
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    return { kind: "help" };
  }
  if (command === "migrate") {
    if (rest.length > 0)
      throw new UsageError(`migrate takes no arguments, got "${rest.join(" ")}"`);
    return { kind: "migrate" };
  }
  if (command === "backfill") return parseBackfill(rest, now);
  if (command === "delete-identity") return parseDeleteIdentity(rest, env);
  if (command !== "replay") throw new UsageError(`unknown command "${command}"`);
  try {
    parsed = parseReplayArgs(rest);
  } catch (error) {
    // parseArgs explains unknown options and missing values well; keep its words.
    throw new UsageError(toError(error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? "replay needs a fixture file" : "replay takes one fixture file",
    );
  }
  const url = values.url ?? DEFAULT_URL;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError(`--url is not a URL: "${url}"`);
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new UsageError(`--url must be http or https, not "${protocol}"`);
  }
  const secret = values.secret ?? LOCAL_WEBHOOK_SECRET;
  if (!WEBHOOK_SECRET.test(secret))
    throw new UsageError("--secret must be a whsec_<base64> secret");
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed must be a whole number, not "${values.seed}"`);
  }
  const duplicate = positiveNumber("duplicate", values.duplicate, true);
  const rate = positiveNumber("rate", values.rate, false);
  const concurrency = positiveNumber("concurrency", values.concurrency, true);
  return {
    kind: "replay",
    file: positionals[0] as string,
    options: {
      url,
      secret,
      shuffle: values.shuffle === true || seed !== undefined,
      ...(seed === undefined ? {} : { seed }),
      ...(duplicate === undefined ? {} : { duplicate }),
      ...(rate === undefined ? {} : { rate }),
      ...(concurrency === undefined ? {} : { concurrency }),
    },
  };
};

const parseReplayArgs = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string" },
      secret: { type: "string" },
      shuffle: { type: "boolean" },
      seed: { type: "string" },
      duplicate: { type: "string" },
      rate: { type: "string" },
      concurrency: { type: "string" },
    },
  });

const describeSummary = (summary: ReplaySummary): string =>
  `sent ${summary.sent} requests: ${summary.accepted} of ${summary.total} deliveries accepted, ` +
  `${summary.retried} retried, ${summary.failed} failed, ${summary.skipped} skipped`;

const runReplay = async (command: Extract<Command, { kind: "replay" }>): Promise<number> => {
  const fixture = await readFixture(command.file);
  const bar = new SingleBar(
    {
      format:
        "replay [{bar}] {value}/{total} | accepted {accepted} | retried {retried} | failed {failed} | {eta_formatted}",
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const total = fixture.length * (command.options.duplicate ?? 1);
  bar.start(total, 0, { accepted: 0, retried: 0, failed: 0 });
  // Ctrl-C stops starting deliveries; the summary still says what was delivered.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once("SIGINT", onSigint);
  let summary: ReplaySummary;
  try {
    summary = await replay(fixture, {
      ...command.options,
      // A 4xx means a wrong secret, URL or fixture: the next events would fail the same way.
      stopOnFailure: true,
      signal: interrupt.signal,
      onProgress: (progress) =>
        bar.update(progress.accepted + progress.failed, {
          accepted: progress.accepted,
          retried: progress.retried,
          failed: progress.failed,
        }),
    });
  } finally {
    bar.stop();
    process.off("SIGINT", onSigint);
  }
  process.stdout.write(`${describeSummary(summary)}\n`);
  for (const failure of summary.failures) {
    process.stderr.write(
      `${command.file}:${failure.line} (event ${failure.eventId}): ${failure.message}\n`,
    );
  }
  return summary.failed > 0 || summary.skipped > 0 ? 1 : 0;
};

const runMigrate = async (): Promise<number> => {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  await migrateDatabase(config.databaseUrl);
  const where = new URL(config.databaseUrl);
  process.stdout.write(`migrated ${where.host}${where.pathname}\n`);
  return 0;
};

export const runCli = async (argv: string[]): Promise<number> => {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`seam-projector: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    switch (command.kind) {
      case "help":
        process.stdout.write(USAGE);
        return 0;
      case "migrate":
        return await runMigrate();
      case "replay":
        return await runReplay(command);
      case "delete-identity":
        return await runDeleteIdentity(command);
      case "backfill":
        // Loaded on use: @seamapi/http takes about a second to import.
        return await (await import("./seam/backfill-cli.js")).runBackfill(command);
    }
  } catch (error) {
    // Expected faults get one line; anything else keeps its stack for a bug report.
    if (
      error instanceof FixtureError ||
      error instanceof ConfigError ||
      error instanceof AppError ||
      error instanceof BackfillError
    ) {
      process.stderr.write(`seam-projector: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`seam-projector: ${toError(error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
