import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every machine-readable error code the HTTP surface can answer with (docs/api.md). The
 * `seam_api_*` codes answer a call that reached the Seam API (`"discover": true`) and failed.
 */
export const ERROR_CODES = [
  "unauthorized",
  "forbidden",
  "invalid_request",
  "not_found",
  "conflict",
  "invalid_signature",
  "invalid_payload",
  "payload_too_large",
  "queue_unavailable",
  "service_unavailable",
  "seam_api_unauthorized",
  "seam_api_rejected",
  "seam_api_unavailable",
  "internal_error",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const codeToStatus = (code: ErrorCode): ContentfulStatusCode => {
  switch (code) {
    case "unauthorized":
    case "invalid_signature":
      return 401;
    case "forbidden":
      return 403;
    case "invalid_request":
    case "invalid_payload":
      return 400;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "payload_too_large":
      return 413;
    case "seam_api_unauthorized":
    case "seam_api_rejected":
      return 502;
    case "queue_unavailable":
    case "service_unavailable":
    case "seam_api_unavailable":
      return 503;
    case "internal_error":
      return 500;
  }
};

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** What went wrong underneath (a Redis error), for the log line; never in the answer. */
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ErrorBody = { error: { code: ErrorCode; message: string; field?: string } };

export const errorBody = (code: ErrorCode, message: string, field?: string): ErrorBody => ({
  error: field === undefined ? { code, message } : { code, message, field },
});

/**
 * Whatever was thrown, as an Error: the Error itself, or one whose message is the value's text.
 * Log the result (`{ err: toError(error) }`): pino's serializer keeps its stack and cause.
 */
export const toError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));
