import { schemas } from "@seamapi/types/connect";
import type { z } from "zod";

type EventSchema = (typeof schemas.seam_event.options)[number];

/** The official Seam schema of each event type, from @seamapi/types (zod 3). */
const schemaByType = new Map<string, EventSchema>(
  schemas.seam_event.options.map((schema) => [schema.shape.event_type.value, schema]),
);

/** True for an event type this version of @seamapi/types has a schema for. */
export const isKnownEventType = (eventType: string): boolean => schemaByType.has(eventType);

export type SeamEventCheck =
  | { ok: true; event: Record<string, unknown> }
  | { ok: false; error: string };

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`)
    .join("; ");

/**
 * Checks an event against Seam's schema for its type. An event type this version of
 * @seamapi/types does not know passes unchecked: it is stored, and not projected.
 */
export const checkSeamEvent = (json: Record<string, unknown>): SeamEventCheck => {
  const schema = schemaByType.get(String(json.event_type));
  if (schema === undefined) return { ok: true, event: json };
  const result = schema.safeParse(json);
  return result.success
    ? { ok: true, event: result.data as Record<string, unknown> }
    : { ok: false, error: describeIssues(result.error) };
};
