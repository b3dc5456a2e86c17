// zod 4 (the `zod/v4` entry of the zod package): this check runs on every webhook, and zod 3 took
// about 5 µs a body here where zod 4 takes 0.6 µs. The rest of the service, @hono/zod-openapi and
// @seamapi/types' schemas among it, is on zod 3.
import { z } from "zod/v4";
import { isWellFormed } from "../util/well-formed.js";

/** Longest id the service stores (docs/api.md): Seam's are UUIDs, far below it. */
const MAX_ID_LENGTH = 255;

/** `occurred_at` as an ISO 8601 instant: a date, a time, and `Z` or an offset. */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2201, 0, 1);

/**
 * Milliseconds of an ISO 8601 instant in the years 2000 to 2200, else undefined. Stricter than
 * Date.parse, which takes `2026-02-30` as March 2nd and expanded years such as `+010000`, and
 * which Postgres would then refuse or store far from what was sent.
 */
const parseInstant = (value: string): number | undefined => {
  const match = INSTANT.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const local = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second);
  const date = new Date(local);
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === (month as number) - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  const offsetHours = Number(match[8] ?? 0);
  const offsetMinutes = Number(match[9] ?? 0);
  if (!exact || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const ms = Date.parse(value);
  return ms >= EARLIEST && ms < LATEST ? ms : undefined;
};

const storableId = z
  .string()
  .min(1, "must be a non-empty string")
  // Characters, not UTF-16 units: 200 emoji are 400 units. Counted only when it could matter.
  .refine(
    (value) =>
      value.length <= MAX_ID_LENGTH ||
      (value.length <= 2 * MAX_ID_LENGTH && [...value].length <= MAX_ID_LENGTH),
    `must be at most ${MAX_ID_LENGTH} characters`,
  )
  .refine((value) => !value.includes("\u0000"), "must not contain a NUL character")
  // A lone surrogate (JSON's "\ud800") is no character: Postgres would store U+FFFD instead, and
  // two ids that differ only there would be one.
  .refine(isWellFormed, "must be well-formed Unicode");

/**
 * What ingress requires of a verified body before it queues it (docs/api.md): the envelope, in
 * a form Postgres stores as it is. The full Seam schema is applied later by the worker, after
 * the event is stored, so an event type or field Seam adds later is never lost at the door;
 * what Postgres itself would refuse (a NUL, an id of 200,000 characters, the year 0) is refused
 * here instead, where the sender hears of it, rather than retried in the worker for ever.
 */
const envelopeSchema = z.looseObject({
  event_id: storableId,
  event_type: storableId,
  workspace_id: storableId,
  occurred_at: z
    .string()
    .refine(
      (value) => parseInstant(value) !== undefined,
      "must be an ISO 8601 instant between the years 2000 and 2200",
    ),
});

type Envelope = z.infer<typeof envelopeSchema>;

export type EnvelopeResult =
  | { ok: true; envelope: Envelope }
  | { ok: false; message: string; field?: string };

export const parseEnvelope = (body: string): EnvelopeResult => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, message: "body is not JSON" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, message: "body is not a JSON object" };
  }
  const result = envelopeSchema.safeParse(json);
  if (result.success) return { ok: true, envelope: result.data };
  const issue = result.error.issues[0];
  const field = issue?.path.join(".");
  const message = issue?.code === "invalid_type" ? "must be a non-empty string" : issue?.message;
  return {
    ok: false,
    message: `${field || "body"} ${message ?? "is invalid"}`,
    ...(field ? { field } : {}),
  };
};
