import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * JSON logs. Secrets never reach a log line: the paths below are redacted wherever they appear,
 * and request logging records method, path and status only, never headers or bodies.
 */
export const createLogger = (
  level: string,
  base: Record<string, unknown> = {},
  /** stdout unless given (tests read the lines back). */
  destination?: pino.DestinationStream,
): Logger => {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "seam-projector", ...base },
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "*.headers.authorization",
        "webhookSecrets",
        "apiTokens",
        "seamApiKey",
        "*.webhookSecrets",
        "*.apiTokens",
        "*.seamApiKey",
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
};
