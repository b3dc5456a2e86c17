import type { Context } from "hono";
import { AppError, toError } from "../errors.js";
import { withTimeout } from "../util/timeout.js";

/** Longest an admin request waits for Redis; the answer comes within 2 s (CONTRACT §6). */
export const ADMIN_QUEUE_TIMEOUT_MS = 1500;
const RETRY_AFTER_SECONDS = "5";

/**
 * Runs an admin request's Redis work. A Redis that is down, or that hangs (a command waits for
 * ever), becomes `503 service_unavailable` with `Retry-After` within the deadline, not an
 * internal error or a request that never ends.
 */
export const fromQueue = async <T>(
  c: Context,
  operation: () => Promise<T>,
  timeoutMs = ADMIN_QUEUE_TIMEOUT_MS,
): Promise<T> => {
  try {
    return await withTimeout(
      operation(),
      timeoutMs,
      () => new Error(`no answer from Redis in ${timeoutMs} ms`),
    );
  } catch (error) {
    if (error instanceof AppError) throw error;
    c.header("Retry-After", RETRY_AFTER_SECONDS);
    throw new AppError("service_unavailable", `queue unavailable: ${toError(error).message}`);
  }
};
