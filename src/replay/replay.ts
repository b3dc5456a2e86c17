import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { FixtureEvent } from "./fixture.js";
import { signBody } from "./sign.js";

/** Marks a delivery as a replay; ingress stores it with source `replay`. */
export const REPLAY_SOURCE_HEADER = "x-seam-projector-source";

type RetryPolicy = {
  /** Tries per delivery, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
};

const DEFAULT_RETRY: RetryPolicy = { attempts: 8, initialDelayMs: 250, maxDelayMs: 10_000 };

export type ReplayOptions = {
  url: string;
  secret: string;
  shuffle?: boolean;
  /** Makes a shuffle repeatable; random when absent. */
  seed?: number;
  /** Deliveries per event (at-least-once delivery, as Svix does when it retries). */
  duplicate?: number;
  /** At most this many deliveries start per second; retries are paced by their backoff. */
  rate?: number;
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  requestTimeoutMs?: number;
  /** Stop starting deliveries after the first rejected one (a 4xx rarely affects one event). */
  stopOnFailure?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ReplayProgress) => void;
};

type ReplayProgress = {
  /** Deliveries planned: events times `duplicate`. */
  total: number;
  /** HTTP requests made, retries included. */
  sent: number;
  accepted: number;
  /** Requests that were retries of a delivery after a 503, 5xx, 429 or connection error. */
  retried: number;
  failed: number;
};

type ReplayFailure = { eventId: string; line: number; status?: number; message: string };

export type ReplaySummary = ReplayProgress & {
  /** Deliveries never finished because the replay stopped early. */
  skipped: number;
  failures: ReplayFailure[];
};

export type Delivery = { event: FixtureEvent; copy: number };

/** mulberry32: a tiny seeded generator, so `--seed` gives the same order on every machine. */
const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Pure: every event `duplicate` times, copies side by side unless shuffled (Fisher–Yates). */
export const planDeliveries = (
  events: FixtureEvent[],
  options: { shuffle?: boolean; seed?: number; duplicate?: number } = {},
): Delivery[] => {
  const copies = options.duplicate ?? 1;
  const plan = events.flatMap((event) =>
    Array.from({ length: copies }, (_, copy) => ({ event, copy })),
  );
  if (!options.shuffle) return plan;
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  for (let i = plan.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j] as Delivery, plan[i] as Delivery];
  }
  return plan;
};

type AttemptResult =
  | { kind: "accepted" }
  | { kind: "retry"; reason: string; status?: number; retryAfterMs?: number }
  | { kind: "rejected"; status: number; message: string };

/** Reads `{"error":{"code","message"}}` (docs/api.md) into one line; any other body as text. */
const describeRejection = async (response: Response): Promise<string> => {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error) return `${String(body.error.code)}: ${String(body.error.message)}`;
  } catch {
    // Not our error shape: a proxy or another server answered; show what it said.
  }
  return text.slice(0, 200) || response.statusText;
};

const retryAfterMs = (header: string | null): number | undefined => {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
};

const connectionReason = (error: unknown): string => {
  if (error instanceof Error && error.name === "TimeoutError") return "no answer in time";
  // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, a DNS failure, a bad port).
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string }) : undefined;
  return `connection failed (${cause?.code ?? cause?.message ?? String(error)})`;
};

/** Svix retries any non-2xx; we give up on a 4xx other than 408/429, which a retry cannot fix. */
const isRetryable = (status: number) => status === 408 || status === 429 || status >= 500;

const attemptOnce = async (
  options: ReplayOptions,
  body: string,
  messageId: string,
  signal: AbortSignal,
): Promise<AttemptResult> => {
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: "POST",
      // Re-signed at each try: a retry keeps its svix-id but carries a fresh timestamp, as Svix's do.
      headers: {
        "content-type": "application/json",
        [REPLAY_SOURCE_HEADER]: "replay",
        ...signBody(options.secret, body, { messageId }),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs ?? 10_000)]),
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return { kind: "retry", reason: connectionReason(error) };
  }
  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel();
    return { kind: "accepted" };
  }
  const message = `${response.status} ${await describeRejection(response)}`;
  if (!isRetryable(response.status)) return { kind: "rejected", status: response.status, message };
  const after = retryAfterMs(response.headers.get("retry-after"));
  return {
    kind: "retry",
    reason: message,
    status: response.status,
    ...(after === undefined ? {} : { retryAfterMs: after }),
  };
};

/** Exponential backoff with full jitter, or the server's Retry-After, capped by the policy. */
const backoffMs = (policy: RetryPolicy, retry: number, serverMs: number | undefined) =>
  Math.min(
    policy.maxDelayMs,
    serverMs ?? policy.initialDelayMs * 2 ** (retry - 1) * (0.5 + Math.random() / 2),
  );

/** Starts at most `perSecond` deliveries a second, spread evenly rather than in bursts. */
const createPacer = (perSecond: number | undefined) => {
  let next = 0;
  return async (signal: AbortSignal) => {
    if (perSecond === undefined) return;
    const now = Date.now();
    const slot = Math.max(now, next);
    next = slot + 1000 / perSecond;
    if (slot > now) await sleep(slot - now, undefined, { signal });
  };
};

/**
 * Signs each delivery with svix and posts it, `concurrency` at a time, retrying transient
 * answers the way Svix would. Resolves with a summary once every delivery has ended (or the
 * replay stopped); it rejects only on a programming error, never on an HTTP answer.
 */
export const replay = async (
  events: FixtureEvent[],
  options: ReplayOptions,
): Promise<ReplaySummary> => {
  const plan = planDeliveries(events, options);
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const progress: ReplayProgress = {
    total: plan.length,
    sent: 0,
    accepted: 0,
    retried: 0,
    failed: 0,
  };
  const failures: ReplayFailure[] = [];
  const signal = options.signal ?? new AbortController().signal;
  // A rejected delivery stops new ones from starting; those in flight still finish.
  let stopping = false;
  const pace = createPacer(options.rate);
  const report = () => options.onProgress?.({ ...progress });
  let nextIndex = 0;

  const deliver = async ({ event }: Delivery) => {
    const messageId = `msg_${randomUUID().replaceAll("-", "")}`;
    for (let attempt = 1; ; attempt += 1) {
      if (attempt > 1) progress.retried += 1;
      progress.sent += 1;
      const result = await attemptOnce(options, event.body, messageId, signal);
      if (result.kind === "accepted") {
        progress.accepted += 1;
        return report();
      }
      if (result.kind === "rejected" || attempt >= policy.attempts) {
        const message =
          result.kind === "rejected"
            ? result.message
            : `${result.reason}; gave up after ${attempt} tries`;
        progress.failed += 1;
        failures.push({
          eventId: event.eventId,
          line: event.line,
          ...(result.status === undefined ? {} : { status: result.status }),
          message,
        });
        if (options.stopOnFailure) stopping = true;
        return report();
      }
      report();
      await sleep(backoffMs(policy, attempt, result.retryAfterMs), undefined, { signal });
    }
  };

  const lane = async () => {
    while (!stopping && !signal.aborted && nextIndex < plan.length) {
      const delivery = plan[nextIndex] as Delivery;
      nextIndex += 1;
      try {
        await pace(signal);
        await deliver(delivery);
      } catch (error) {
        // An abort ends the lane; the delivery in hand counts as skipped.
        if (!signal.aborted) throw error;
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 8, plan.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return {
    ...progress,
    skipped: progress.total - progress.accepted - progress.failed,
    failures,
  };
};
