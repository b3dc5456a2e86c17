import { z } from "zod";

/**
 * What ingress requires of a verified body before it queues it (CONTRACT §3). The full Seam
 * schema is applied later by the worker, after the event is stored, so an event type or field
 * Seam adds later is never lost at the door.
 */
const envelopeSchema = z
  .object({
    event_id: z.string().min(1),
    event_type: z.string().min(1),
    workspace_id: z.string().min(1),
    occurred_at: z.string().min(1),
  })
  .passthrough();

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
  return {
    ok: false,
    message: `${field || "body"} must be a non-empty string`,
    ...(field ? { field } : {}),
  };
};
