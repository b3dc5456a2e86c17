import { z } from "@hono/zod-openapi";
import { AppError, ERROR_CODES } from "../errors.js";
import {
  executionStatuses,
  executionSteps,
  executionStrategies,
  resourceTypes,
} from "./resources.js";

/**
 * The pieces of the HTTP contract every route shares (docs/api.md): the error envelope and
 * its OpenAPI responses, the readiness object, the identity in the path. The bottom layer, so
 * a feature's routes spread these rather than import another feature's (unkey's
 * `openApiErrorResponses` is the model).
 */

/** A JSON response (or body) of a route, as the OpenAPI document describes it. */
export const jsonContent = <T>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      field: z.string().optional(),
    }),
  })
  .openapi("Error");

/** One error answer of a route, in the envelope. */
export const errorResponse = (description: string) => jsonContent(errorSchema, description);

/** The errors every route behind the bearer tokens can answer; each route spreads them. */
export const openApiErrorResponses = {
  400: errorResponse("A malformed id, query or body; `field` names the input at fault."),
  401: errorResponse("Missing or unknown bearer token."),
  413: errorResponse("`payload_too_large`: a body over 1 MiB."),
  503: errorResponse(
    "`service_unavailable`: still starting, or Postgres unreachable; `Retry-After` says when to try again.",
  ),
};

/** Postgres prints UUIDs in lower case; comparing ids as text relies on ours being so too. */
export const uuid = z
  .string()
  .uuid()
  .transform((id) => id.toLowerCase());

export const identityParams = z.object({
  user_identity_id: uuid.openapi({
    param: { name: "user_identity_id", in: "path" },
    description: "The Seam user identity id.",
    example: "7b0c3a5e-2f4d-4c1b-9a8e-0d6f5e4c3b2a",
  }),
});

/** The `/v1` path of one user identity, as the OpenAPI document writes it. */
export const IDENTITY_PATH = "/v1/user_identities/{user_identity_id}";

const executionSchema = z
  .object({
    strategy: z.enum(executionStrategies),
    status: z.enum(executionStatuses),
    step: z.enum(executionSteps).nullable().openapi({
      description: "The step in hand; null once completed; when failed, the step it failed in.",
    }),
    started_at: z.string().openapi({ format: "date-time" }),
    finished_at: z.string().nullable().openapi({ format: "date-time" }),
    error: z.object({ code: z.string(), message: z.string() }).nullable().openapi({
      description:
        "Why it failed: `seam_api_unauthorized`, `seam_api_rejected`, `seam_api_unavailable` or `seam_resource_not_deleted`.",
    }),
  })
  .nullable()
  .openapi("Execution", {
    description: 'The deletion carried out in Seam (`"execute": true`); null without one.',
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
        execution: executionSchema,
      })
      .nullable()
      .openapi("Deletion", { description: "Null until a deletion is requested." }),
  })
  .openapi("Readiness");

/** The answer of a route that has no deletion to act on. */
export const deletionNotFound = { 404: errorResponse("No deletion was requested.") };

export const deletionNotRequested = () =>
  new AppError("not_found", "no deletion was requested for this user identity");
