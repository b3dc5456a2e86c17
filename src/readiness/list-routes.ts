import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { bearerSecurity } from "../http/openapi.js";
import {
  deletionNotFound,
  deletionNotRequested,
  IDENTITY_PATH,
  identityParams,
  jsonContent,
  openApiErrorResponses,
  readinessSchema,
} from "../shared/api.js";
import { executionSteps } from "../shared/resources.js";
import { listQuery } from "./schemas.js";
import type { ReadinessService } from "./service.js";

const pageSchema = z
  .object({
    items: z.array(readinessSchema),
    next_cursor: z.string().nullable().openapi({ description: "Null on the last page." }),
  })
  .openapi("DeletionPage");

const callSchema = z.object({
  type: z.string(),
  id: z.string().uuid(),
  state: z.string().openapi({ description: "`pending`, `calling`, `awaiting` or `done`." }),
  delete_calls: z.number().int(),
  get_calls: z.number().int(),
  answer: z.string().nullable().openapi({ description: "What Seam answered last: `200`, `404`…" }),
  called_at: z.string().nullable(),
  answered_at: z.string().nullable(),
  done_at: z.string().nullable(),
});

const historySchema = z
  .object({
    user_identity_id: z.string().uuid(),
    entries: z.array(
      z.object({
        at: z.string().openapi({ format: "date-time" }),
        what: z.enum([
          "requested",
          "resource_deleted",
          "ready",
          "execution_started",
          "step",
          "execution_completed",
          "execution_failed",
        ]),
        text: z.string(),
        type: z.string().optional(),
        id: z.string().optional(),
      }),
    ),
    steps: z.array(
      z.object({
        step: z.enum(executionSteps),
        state: z.enum(["pending", "running", "done", "failed"]),
        calls: z.array(callSchema),
      }),
    ),
  })
  .openapi("DeletionHistory");

const listDeletions = createRoute({
  method: "get",
  path: "/v1/deletions",
  summary: "List deletion requests, newest first (keyset-paginated)",
  security: bearerSecurity,
  request: { query: listQuery },
  responses: {
    200: jsonContent(pageSchema, "A page of readiness objects."),
    ...openApiErrorResponses,
  },
});

const getHistory = createRoute({
  method: "get",
  path: `${IDENTITY_PATH}/deletion/history`,
  summary: "What happened to the deletion: dated entries, and the execution's steps and calls",
  security: bearerSecurity,
  request: { params: identityParams },
  responses: {
    200: jsonContent(historySchema, "The history."),
    ...openApiErrorResponses,
    ...deletionNotFound,
  },
});

const getService = createRoute({
  method: "get",
  path: "/v1/service",
  summary: "What this service offers: whether it executes deletions in Seam",
  security: bearerSecurity,
  responses: {
    200: jsonContent(
      z.object({
        execute: z.boolean().openapi({ description: "True when SEAM_API_KEY is set." }),
      }),
      "What it offers.",
    ),
    ...openApiErrorResponses,
  },
});

/** The `/v1` reads of the console (CONTRACT §5, §9): the list, one deletion's history. */
export const listRoutes = (router: OpenAPIHono, service: ReadinessService) =>
  router
    .openapi(listDeletions, async (c) => {
      const { status, limit = 50, cursor } = c.req.valid("query");
      return c.json(await service.list({ status, limit, cursor }), 200);
    })
    .openapi(getHistory, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      const history = await service.history(id);
      if (history === undefined) throw deletionNotRequested();
      return c.json(history, 200);
    })
    .openapi(getService, (c) => c.json({ execute: service.executes }, 200));
