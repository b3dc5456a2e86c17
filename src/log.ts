import { createRequire } from "node:module";
import { pino } from "pino";
import type PinoPretty from "pino-pretty";

export type Logger = pino.Logger;

/** `json`: one JSON object a line, for machines. `pretty`: coloured lines for a person. */
export type LogFormat = "json" | "pretty";

/**
 * Pure: pretty only for a person watching a terminal in development. Production, tests (whose
 * stdout is a pipe to the runner), a file, a pipe or a log collector get JSON, which is what
 * they parse.
 */
export const chooseLogFormat = (runtime: {
  stdoutIsTTY: boolean | undefined;
  production: boolean;
}): LogFormat => (runtime.stdoutIsTTY === true && !runtime.production ? "pretty" : "json");

const require = createRequire(import.meta.url);

/**
 * pino-pretty is a devDependency: there where people run the service from a checkout (`npm run
 * dev`), absent from the production image, where the format is JSON anyway. Loaded only when
 * asked for; without it the logs stay JSON rather than the service failing to start.
 */
const loadPretty = (): typeof PinoPretty | undefined => {
  try {
    return require("pino-pretty") as typeof PinoPretty;
  } catch {
    return undefined;
  }
};

type SerializedError = {
  type: string;
  message: string;
  stack?: string;
  code?: unknown;
  cause?: SerializedError | string;
};

/**
 * The `err` of a log line: type, message, code, stack and cause, and nothing else. pino's own
 * serializer copies every enumerable property, and a postgres.js error carries the statement's
 * `query`, its `parameters` and Postgres' `detail` (identity and resource ids, bodies): those
 * never reach a line. Not an Error (a thrown string, an object): logged as text.
 */
const serializeError = (value: unknown, depth = 0): SerializedError | string => {
  if (!(value instanceof Error)) return String(value);
  const code: unknown = (value as { code?: unknown }).code;
  return {
    type: value.name,
    message: value.message,
    ...(value.stack === undefined ? {} : { stack: value.stack }),
    ...(code === undefined ? {} : { code }),
    // A cycle of causes ends after a few links.
    ...(value.cause === undefined || depth >= 5
      ? {}
      : { cause: serializeError(value.cause, depth + 1) }),
  };
};

/**
 * Secrets never reach a log line: the paths below are redacted wherever they appear, and
 * request logging records method, path and status only, never headers or bodies. Pretty lines
 * are formatted in this thread (no transport worker), so a line is written when it is logged
 * and none is lost at exit.
 */
export const createLogger = (
  level: string,
  base: Record<string, unknown> = {},
  /** stdout unless given (tests read the lines back). */
  destination?: pino.DestinationStream,
  format: LogFormat = "json",
): Logger => {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "seam-projector", ...base },
    serializers: { err: (value: unknown) => serializeError(value) },
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "*.headers.authorization",
        "webhookSecrets",
        "apiTokens",
        "adminTokens",
        "seamApiKey",
        "*.webhookSecrets",
        "*.apiTokens",
        "*.adminTokens",
        "*.seamApiKey",
      ],
      censor: "[redacted]",
    },
  };
  const pretty = format === "pretty" ? loadPretty() : undefined;
  if (pretty !== undefined) {
    return pino(
      options,
      pretty({
        colorize: destination === undefined,
        ignore: "pid,hostname,service",
        translateTime: "SYS:HH:MM:ss.l",
        sync: true,
        ...(destination === undefined ? {} : { destination }),
      }),
    );
  }
  return destination ? pino(options, destination) : pino(options);
};
