import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { AppError } from "../errors.js";
import { bearerSecurity } from "../http/openapi.js";
import { errorResponse, jsonContent, openApiErrorResponses } from "../shared/api.js";
import { queuedEventSources } from "../shared/resources.js";
import type { DeadLetters } from "./dead-letters.js";
import { fromQueue } from "./queue-deadline.js";

const security = bearerSecurity;
const json = jsonContent;
const errors = {
  ...openApiErrorResponses,
  503: errorResponse(
    "`service_unavailable`: Redis did not answer in time, or the service is still starting; with `Retry-After`.",
  ),
};
const writeErrors = {
  ...errors,
  403: errorResponse("Not an admin token (ADMIN_TOKENS), or a request from another site."),
};
const notFound = { 404: errorResponse("No failed job with this id.") };

const jobParams = z.object({
  job_id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,200}$/, "job_id must be a job id from the list")
    .openapi({
      param: { name: "job_id", in: "path" },
      description: "The job id, as the list gives it (the event id and a hash of the body).",
    }),
});

const MAX_OFFSET = 1_000_000_000;

/** A whole-number query parameter, given as text. */
const wholeNumber = (name: string) =>
  z.string().regex(/^\d+$/, `${name} must be a whole number`).transform(Number);

const pageQuery = z.object({
  limit: wholeNumber("limit")
    .refine((n) => n >= 1 && n <= 500, "limit must be between 1 and 500")
    .optional()
    .openapi({ param: { name: "limit", in: "query" }, type: "integer", example: "50" }),
  // Redis takes offsets below 2^63 only, and answers any other with an error that looked
  // like an outage (503); no failed set holds a billion jobs.
  offset: wholeNumber("offset")
    .refine((n) => n <= MAX_OFFSET, `offset must be at most ${MAX_OFFSET}`)
    .optional()
    .openapi({ param: { name: "offset", in: "query" }, type: "integer", example: "0" }),
});

const deadLetterSchema = z
  .object({
    job_id: z.string(),
    event_id: z.string(),
    event_type: z.string().nullable(),
    source: z.enum(queuedEventSources),
    received_at: z.string(),
    failed_at: z.string().nullable(),
    attempts: z.number().int(),
    reason: z.string(),
    poison: z.boolean().openapi({
      description: "Failed its Seam schema (not retried), rather than out of retries.",
    }),
  })
  .openapi("DeadLetter");

const listRoute = createRoute({
  method: "get",
  path: "/admin/dead-letters",
  summary: "List failed events (newest first)",
  security,
  request: { query: pageQuery },
  responses: {
    200: json(
      z.object({ total: z.number().int(), items: z.array(deadLetterSchema) }),
      "A page of the failed set.",
    ),
    ...errors,
  },
});

const inspectRoute = createRoute({
  method: "get",
  path: "/admin/dead-letters/{job_id}",
  summary: "Inspect a failed event: the event as received, the reason and the stack trace",
  security,
  request: { params: jobParams },
  responses: {
    200: json(
      deadLetterSchema.extend({
        event: z.any().openapi({ description: "The event as received (text if it is not JSON)." }),
        stacktrace: z.array(z.string()),
      }),
      "The failed job.",
    ),
    ...errors,
    ...notFound,
  },
});

const retryOneRoute = createRoute({
  method: "post",
  path: "/admin/dead-letters/{job_id}/retry",
  summary: "Re-drive a failed event through the projector, with its attempts reset",
  security,
  request: { params: jobParams },
  responses: {
    202: json(z.object({ retried: z.number().int() }), "Queued again."),
    ...writeErrors,
    ...notFound,
  },
});

const retryAllRoute = createRoute({
  method: "post",
  path: "/admin/dead-letters/retry",
  summary: "Re-drive every failed event",
  security,
  responses: {
    202: json(z.object({ retried: z.number().int() }), "How many were queued again."),
    ...writeErrors,
  },
});

const discardRoute = createRoute({
  method: "delete",
  path: "/admin/dead-letters/{job_id}",
  summary: "Discard a failed event for good (the event log in Postgres keeps what it recorded)",
  security,
  request: { params: jobParams },
  responses: { 204: { description: "Discarded." }, ...writeErrors, ...notFound },
});

const missing = (jobId: string) => new AppError("not_found", `no failed job ${jobId}`);

/** The dead-letter routes; the caller puts them behind the bearer auth. */
export const deadLetterRoutes = (router: OpenAPIHono, deadLetters: DeadLetters) =>
  router
    .openapi(listRoute, async (c) => {
      const { limit = 50, offset = 0 } = c.req.valid("query");
      return c.json(await fromQueue(() => deadLetters.list(limit, offset)), 200);
    })
    .openapi(inspectRoute, async (c) => {
      const { job_id: jobId } = c.req.valid("param");
      const detail = await fromQueue(() => deadLetters.inspect(jobId));
      if (detail === undefined) throw missing(jobId);
      return c.json(detail, 200);
    })
    .openapi(retryAllRoute, async (c) =>
      c.json({ retried: await fromQueue(() => deadLetters.retryAll()) }, 202),
    )
    .openapi(retryOneRoute, async (c) => {
      const { job_id: jobId } = c.req.valid("param");
      if (!(await fromQueue(() => deadLetters.retry(jobId)))) throw missing(jobId);
      return c.json({ retried: 1 }, 202);
    })
    .openapi(discardRoute, async (c) => {
      const { job_id: jobId } = c.req.valid("param");
      if (!(await fromQueue(() => deadLetters.discard(jobId)))) throw missing(jobId);
      return c.body(null, 204);
    });
