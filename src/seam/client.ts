import { isSeamHttpApiError, SeamHttp } from "@seamapi/http/connect";
import { AppError, toError } from "../errors.js";

/**
 * The transport to the Seam API: `@seamapi/http` (its axios client with axios-retry), set up
 * with our retry policy and per-request timeout, and every failure turned into an AppError
 * whose code says what the caller can do about it.
 */

export type SeamClientOptions = {
  apiKey: string;
  endpoint: string;
  /** Longest one HTTP attempt may take; each retry gets the full time again. */
  timeoutMs?: number;
  /** Retries after the first attempt, for 429, 5xx, timeouts and network errors. */
  retries?: number;
  /** First backoff; doubled per retry, with full jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited out: the call fails at once, unavailable. */
  maxRetryAfterMs?: number;
};

export type RetryPolicy = Required<
  Pick<
    SeamClientOptions,
    "timeoutMs" | "retries" | "baseDelayMs" | "maxDelayMs" | "maxRetryAfterMs"
  >
>;

/**
 * Worst case for one call: 4 attempts of 5 s plus 3 waits of at most 10 s, about 50 s; in
 * practice a 5xx answers at once and waits are 0.2 to 1.6 s. No caller holds a lock, a webhook
 * answer or a waiter while it waits: discovery runs before its transaction, enrichment after
 * the projection's commit, backfill in the CLI.
 */
const DEFAULT_RETRY_POLICY: RetryPolicy = {
  timeoutMs: 5_000,
  retries: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
};

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or bad. */
export const parseRetryAfter = (header: unknown, now: number): number | undefined => {
  if (typeof header !== "string" || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/**
 * Pure: the wait before retry number `retry` (1-based). Exponential backoff with full jitter
 * (AWS's "full jitter": uniform in [0, min(max, base·2^(retry-1))]), so clients that failed
 * together do not retry together; never shorter than what Retry-After asks.
 */
export const retryDelayMs = (
  retry: number,
  retryAfterMs: number | undefined,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.max(Math.round(random() * ceiling), retryAfterMs ?? 0);
};

const TIMEOUT_CODES = new Set(["ECONNABORTED", "ETIMEDOUT"]);

/** The part of an axios error we read (axios itself is @seamapi/http's dependency, not ours). */
type HttpFailure = {
  code?: string | undefined;
  response?: { status: number; headers?: unknown } | undefined;
};

const isHttpFailure = (error: unknown): error is HttpFailure =>
  typeof error === "object" && error !== null && "isAxiosError" in error;

export const retryAfterOf = (error: unknown): number | undefined => {
  if (typeof error !== "object" || error === null) return undefined;
  const headers = (error as HttpFailure).response?.headers as Record<string, unknown> | undefined;
  return parseRetryAfter(headers?.["retry-after"], Date.now());
};

/**
 * Pure: whether a failed attempt is worth another. Seam answers reads to POST as well as GET,
 * and every call this service makes is a read, so any method may be retried.
 */
export const isRetryable = (error: HttpFailure, policy: Pick<RetryPolicy, "maxRetryAfterMs">) => {
  const status = error.response?.status;
  if (status === undefined) return true; // timeout, refused or reset connection
  if (status !== 429 && status < 500) return false;
  const retryAfter = retryAfterOf(error);
  return retryAfter === undefined || retryAfter <= policy.maxRetryAfterMs;
};

/** What every Seam API failure becomes; `path` names the call in the message. */
export const toSeamError = (error: unknown, path: string): AppError => {
  if (error instanceof AppError) return error;
  const status = isSeamHttpApiError(error)
    ? error.statusCode
    : isHttpFailure(error)
      ? error.response?.status
      : undefined;
  if (status === 401 || status === 403) {
    return new AppError(
      "seam_api_unauthorized",
      `the Seam API rejected SEAM_API_KEY (${status} on ${path}): set a valid workspace API key with read access`,
    );
  }
  if (status === 404) return new AppError("not_found", `the Seam API found nothing at ${path}`);
  if (status === undefined || status === 429 || status >= 500) {
    const why =
      status === undefined
        ? isHttpFailure(error) && TIMEOUT_CODES.has(error.code ?? "")
          ? "timed out"
          : `failed (${toError(error).message})`
        : `answered ${status}`;
    return new AppError(
      "seam_api_unavailable",
      `the Seam API ${why} on ${path}, after retries; try again later`,
    );
  }
  const detail = isSeamHttpApiError(error) ? `${error.code}: ${error.message}` : `status ${status}`;
  return new AppError("seam_api_rejected", `the Seam API refused ${path} (${detail})`);
};

/**
 * A SeamHttp whose every request follows `policy`; throws a one-line error on a bad key.
 * `onFailedAttempt`, when given, replaces the retries: each failed attempt is shown to it, with
 * its headers (which the error @seamapi/http throws afterwards no longer carries), and none is
 * retried.
 */
export const createSeamHttp = (
  options: SeamClientOptions,
  onFailedAttempt?: (error: unknown) => void,
): SeamHttp => {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...definedOnly(options) };
  try {
    return new SeamHttp({
      apiKey: options.apiKey,
      endpoint: options.endpoint,
      axiosOptions: { timeout: policy.timeoutMs },
      axiosRetryOptions: {
        // axios-retry asks its condition only while a retry is left: one, always refused.
        retries: onFailedAttempt ? 1 : policy.retries,
        shouldResetTimeout: true,
        retryCondition: (error) => {
          if (onFailedAttempt === undefined) return isRetryable(error, policy);
          onFailedAttempt(error);
          return false;
        },
        retryDelay: (retry, error) => retryDelayMs(retry, retryAfterOf(error), policy),
      },
    });
  } catch (error) {
    // @seamapi/http checks the key's shape (seam_…) before any request.
    throw new Error(`SEAM_API_KEY: ${toError(error).message}`);
  }
};

const definedOnly = (options: SeamClientOptions): Partial<RetryPolicy> =>
  Object.fromEntries(
    Object.entries(options).filter(
      ([key, value]) => value !== undefined && key in DEFAULT_RETRY_POLICY,
    ),
  );
