import { z } from "@hono/zod-openapi";
import { resourceTypes } from "../shared/resources.js";
import type { LinkField } from "./link.js";

/** Postgres prints UUIDs in lower case; comparing ids as text relies on ours being so too. */
const uuid = z
  .string()
  .uuid()
  .transform((id) => id.toLowerCase());

/** Seconds a long-poll may wait at most (CONTRACT §5: above 60 counts as 60). */
const MAX_WAIT_SECONDS = 60;

export const identityParams = z.object({
  user_identity_id: uuid.openapi({
    param: { name: "user_identity_id", in: "path" },
    description: "The Seam user identity id.",
    example: "7b0c3a5e-2f4d-4c1b-9a8e-0d6f5e4c3b2a",
  }),
});

export const waitQuery = z.object({
  wait: z
    .string()
    .regex(/^\d+$/, "wait must be a whole number of seconds")
    .transform((value) => Math.min(Number(value), MAX_WAIT_SECONDS))
    .optional()
    .openapi({
      param: { name: "wait", in: "query" },
      type: "integer",
      minimum: 0,
      description:
        "Seconds to wait for the deletion to become ready; above 60 counts as 60. Without it, answers at once.",
      example: "30",
    }),
});

const idList = (type: string) =>
  z
    .array(uuid)
    .max(1000)
    .optional()
    .openapi({ description: `Ids of ${type} resources to link to the identity.` });

const linkLists = {
  acs_user_ids: idList("acs_user"),
  acs_credential_ids: idList("acs_credential"),
  enrollment_automation_ids: idList("enrollment_automation"),
  phone_ids: idList("phone"),
  client_session_ids: idList("client_session"),
} satisfies Record<LinkField, unknown>;

export const linksBody = z
  .object({
    ...linkLists,
    discover: z.boolean().optional().openapi({
      description:
        "Also link every resource the Seam API lists for the identity (ACS users, credentials, phones, client sessions, enrollment automations). Needs SEAM_API_KEY: without it, 400 `invalid_request` on `discover`.",
    }),
  })
  // A misspelt list would otherwise link nothing and answer 200.
  .strict()
  .openapi("ResourceLinks", {
    example: { acs_user_ids: ["1b7c0e9a-4f7e-4d55-a1c2-6f5b8c2d9e10"] },
  });

export const readinessSchema = z
  .object({
    user_identity_id: z.string().uuid(),
    ready: z.boolean().openapi({ description: "True when nothing linked blocks the deletion." }),
    blockers: z.array(
      z.object({ type: z.enum(resourceTypes), id: z.string().uuid() }).openapi("Blocker", {
        description: "A linked resource whose deletion event has not been projected yet.",
      }),
    ),
    deletion: z
      .object({
        status: z.enum(["pending", "ready"]),
        requested_at: z.string().openapi({ format: "date-time" }),
        ready_at: z.string().nullable().openapi({ format: "date-time" }),
      })
      .nullable()
      .openapi("Deletion", { description: "Null until a deletion is requested." }),
  })
  .openapi("Readiness");

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum([
        "unauthorized",
        "invalid_request",
        "not_found",
        "conflict",
        // A discovery whose Seam API call failed (beyond CONTRACT §5; see the README).
        "seam_api_unauthorized",
        "seam_api_rejected",
        "seam_api_unavailable",
      ]),
      message: z.string(),
      field: z.string().optional(),
    }),
  })
  .openapi("Error");
