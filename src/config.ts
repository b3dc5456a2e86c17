import { z } from "zod";

/**
 * The only reader of `process.env`. Parsed once at start-up; a bad value stops the process with
 * one line that names the variable (docs/operations.md).
 */

/** Local-only defaults, printed in the README so a developer can sign a test event at once. */
export const LOCAL_WEBHOOK_SECRET = "whsec_c2VhbS1wcm9qZWN0b3ItbG9jYWwtZGV2LXNlY3JldA==";
export const LOCAL_API_TOKEN = "local-dev-token-not-for-production";

const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const API_TOKEN = /^\S{16,}$/;

const commaList = (name: string, pattern: RegExp, describe: string) =>
  z
    .string()
    .transform((raw) =>
      raw
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    )
    .refine((items) => items.length > 0, { message: `${name} is empty` })
    .refine((items) => items.every((item) => pattern.test(item)), {
      message: `${name} must be ${describe}`,
    });

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  NODE_ENV: z.string().default("development"),
  ROLE: z.enum(["all", "api", "worker"]).default("all"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string().url().default("postgres://localhost:5432/seam_projector"),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  QUEUE_PREFIX: z.string().min(1).default("seam-projector"),
  SEAM_WEBHOOK_SECRET: z.string().optional(),
  API_TOKENS: z.string().optional(),
  ADMIN_TOKENS: z.string().optional(),
  SEAM_API_KEY: z.string().min(1).optional(),
  SEAM_ENDPOINT: z.string().url().default("https://connect.getseam.com"),
  // Executions (CONTRACT §8): Seam calls in flight per process, and how long an awaited
  // deletion event is waited for before Seam is asked once.
  SEAM_API_CONCURRENCY: positiveInt.default(4),
  EXECUTION_EVENT_TIMEOUT_MS: positiveInt.default(300_000),
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt.default(256 * 1024),
  ENQUEUE_TIMEOUT_MS: positiveInt.default(1500),
  // Backpressure: jobs waiting in the queue above which webhooks get 503 (0 turns it off).
  // It bounds what Redis holds (about a kilobyte a job) while workers are down or behind.
  QUEUE_MAX_DEPTH: z.coerce.number().int().min(0).default(250_000),
  // Jobs in hand, not transactions: the projector applies what it holds in batches of up to
  // WORKER_BATCH_SIZE, two transactions at a time. 8 capped a worker near 1,100 events/s (each
  // job waits for its batch's commit, so throughput = jobs in hand / latency); 256 in batches
  // of 100 gave 5,000-5,300/s on 2 cores, 512 in batches of 200 6,200-6,500/s: a bigger batch
  // costs less per event (bench/sections/projection.ts). Under light load batches stay small.
  // 1,024 in batches of 400 drained about 8% more, but with connections terminated every 20 ms
  // (test/resilience/postgres-outage) its longer batches failed more often and the last event
  // came after 30 s instead of 8.
  WORKER_CONCURRENCY: positiveInt.default(512),
  WORKER_BATCH_SIZE: positiveInt.default(200),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  // Long-polls and SSE streams one process holds (docs/operations.md); past it a new one gets 503.
  MAX_WAITERS: positiveInt.default(10_000),
  // One token's share of MAX_WAITERS; unset: all of it with one API token, half with several.
  MAX_WAITERS_PER_TOKEN: positiveInt.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Workspace binding and retention (docs/operations.md).
  SEAM_WORKSPACE_ID: z
    .string()
    .uuid("must be a Seam workspace id (a UUID)")
    .transform((id) => id.toLowerCase())
    .optional(),
  EVENTS_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
  DEAD_LETTER_DAYS: z.coerce.number().int().min(0).default(30),
});

export type Role = "all" | "api" | "worker";

export type Config = {
  production: boolean;
  role: Role;
  port: number;
  host: string;
  databaseUrl: string;
  databasePoolSize: number;
  redisUrl: string;
  queuePrefix: string;
  webhookSecrets: string[];
  apiTokens: string[];
  /** Tokens that may change state under /admin/*; empty: the admin routes are read-only. */
  adminTokens: string[];
  seamApiKey: string | undefined;
  seamEndpoint: string;
  /** Seam calls of executions in flight at once in one process. */
  seamApiConcurrency: number;
  /** How long an execution waits for an awaited deletion event before it asks Seam. */
  executionEventTimeoutMs: number;
  webhookBodyLimitBytes: number;
  enqueueTimeoutMs: number;
  /** 0 when backpressure is off. */
  queueMaxDepth: number;
  workerConcurrency: number;
  workerBatchSize: number;
  shutdownTimeoutMs: number;
  maxWaiters: number;
  maxWaitersPerToken: number;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  /** Only this workspace's events are projected; undefined: any workspace. */
  seamWorkspaceId: string | undefined;
  /** Events received longer ago are deleted by the worker; 0 keeps them all. */
  eventsRetentionDays: number;
  /** Dead letters (failed jobs) that failed longer ago are trimmed; 0 keeps them all. */
  deadLetterRetentionDays: number;
  /** True when a secret or token is the published local default (never in production). */
  usingLocalDefaults: boolean;
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

const secretsSchema = commaList("SEAM_WEBHOOK_SECRET", WEBHOOK_SECRET, "whsec_<base64> values");
const tokensOf = (name: string) =>
  commaList(name, API_TOKEN, "tokens of at least 16 characters without spaces");
const tokensSchema = tokensOf("API_TOKENS");
const adminTokensSchema = tokensOf("ADMIN_TOKENS");

const parseList = (schema: typeof secretsSchema, name: string, raw: string): string[] => {
  const result = schema.safeParse(raw);
  if (!result.success)
    throw new ConfigError(result.error.issues[0]?.message ?? `${name} is invalid`);
  return result.data;
};

/**
 * ADMIN_TOKENS is optional (the admin routes are then read-only), in every environment; when
 * set it must be well formed, and no token may be an API token as well, which would make every
 * holder of that API token an admin.
 */
const parseAdminTokens = (raw: string | undefined, apiTokens: string[]): string[] => {
  if (raw === undefined || raw.trim() === "") return [];
  const adminTokens = parseList(adminTokensSchema, "ADMIN_TOKENS", raw);
  if (adminTokens.some((token) => apiTokens.includes(token) || token === LOCAL_API_TOKEN)) {
    throw new ConfigError(
      "ADMIN_TOKENS must not repeat a token of API_TOKENS or the published local token",
    );
  }
  return adminTokens;
};

/** Reads the environment; throws ConfigError whose message is one line naming the variable. */
export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${issue?.path.join(".") ?? "environment"}: ${issue?.message ?? "invalid"}`,
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  const required = (name: "SEAM_WEBHOOK_SECRET" | "API_TOKENS", fallback: string) => {
    const value = e[name];
    if (value !== undefined && value.trim() !== "") return value;
    if (production) throw new ConfigError(`${name} is required when NODE_ENV=production`);
    return fallback;
  };
  const secretsRaw = required("SEAM_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET);
  const tokensRaw = required("API_TOKENS", LOCAL_API_TOKEN);
  const webhookSecrets = parseList(secretsSchema, "SEAM_WEBHOOK_SECRET", secretsRaw);
  const apiTokens = parseList(tokensSchema, "API_TOKENS", tokensRaw);
  const adminTokens = parseAdminTokens(e.ADMIN_TOKENS, apiTokens);
  if (
    production &&
    (webhookSecrets.includes(LOCAL_WEBHOOK_SECRET) || apiTokens.includes(LOCAL_API_TOKEN))
  ) {
    throw new ConfigError(
      "SEAM_WEBHOOK_SECRET or API_TOKENS uses the published local default in production",
    );
  }
  return {
    production,
    role: e.ROLE,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    webhookSecrets,
    apiTokens,
    adminTokens,
    seamApiKey: e.SEAM_API_KEY,
    seamEndpoint: e.SEAM_ENDPOINT,
    seamApiConcurrency: e.SEAM_API_CONCURRENCY,
    executionEventTimeoutMs: e.EXECUTION_EVENT_TIMEOUT_MS,
    webhookBodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES,
    enqueueTimeoutMs: e.ENQUEUE_TIMEOUT_MS,
    queueMaxDepth: e.QUEUE_MAX_DEPTH,
    workerConcurrency: e.WORKER_CONCURRENCY,
    workerBatchSize: e.WORKER_BATCH_SIZE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    maxWaiters: e.MAX_WAITERS,
    maxWaitersPerToken: Math.min(
      e.MAX_WAITERS,
      e.MAX_WAITERS_PER_TOKEN ??
        (apiTokens.length > 1 ? Math.ceil(e.MAX_WAITERS / 2) : e.MAX_WAITERS),
    ),
    logLevel: e.LOG_LEVEL,
    seamWorkspaceId: e.SEAM_WORKSPACE_ID,
    eventsRetentionDays: e.EVENTS_RETENTION_DAYS,
    deadLetterRetentionDays: e.DEAD_LETTER_DAYS,
    usingLocalDefaults:
      webhookSecrets.includes(LOCAL_WEBHOOK_SECRET) || apiTokens.includes(LOCAL_API_TOKEN),
  };
};
