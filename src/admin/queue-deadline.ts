import { AppError, toError } from "../errors.js";
import { TimeoutError, withTimeout } from "../util/timeout.js";

/** Longest an admin request waits for Redis; the answer comes within 2 s (docs/api.md). */
const ADMIN_QUEUE_TIMEOUT_MS = 1500;

/**
 * Runs an admin request's Redis work. A Redis that is down, or that hangs (a command waits for
 * ever), becomes `503 service_unavailable` with `Retry-After` within the deadline, not an
 * internal error or a request that never ends (onError adds its `Retry-After`).
 */
export const fromQueue = async <T>(operation: () => Promise<T>): Promise<T> => {
  try {
    return await withTimeout(operation(), ADMIN_QUEUE_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof AppError) throw error;
    // Redis's own message (an address, a command) goes to the log line as the cause, not to
    // the client.
    const reason =
      error instanceof TimeoutError
        ? `Redis did not answer in ${ADMIN_QUEUE_TIMEOUT_MS} ms`
        : "Redis is unavailable";
    throw new AppError(
      "service_unavailable",
      `queue unavailable: ${reason}, retry later`,
      undefined,
      {
        cause: toError(error),
      },
    );
  }
};
