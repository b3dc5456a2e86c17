import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { AppError } from "../errors.js";
import { limitBody } from "../http/body-limit.js";
import { optionalJsonBody, requireJsonBody, sendsBody } from "../http/json-body.js";
import { bearerSecurity } from "../http/openapi.js";
import {
  deletionNotFound,
  deletionNotRequested,
  errorResponse,
  IDENTITY_PATH,
  identityParams,
  jsonContent,
  openApiErrorResponses,
  readinessSchema,
} from "../shared/api.js";
import { deletionBody, linksBody } from "./schemas.js";
import type { ReadinessService } from "./service.js";

const BASE = IDENTITY_PATH;
const security = bearerSecurity;
const json = jsonContent;
const errors = openApiErrorResponses;
/**
 * The request of a route that takes the resource lists: JSON only, 1 MiB at most however it is
 * sent (the app checks Content-Length on every route; a chunked body is counted here, where it
 * is read anyway), zod-validated.
 */
const withBody = <T extends typeof linksBody | typeof deletionBody>(
  schema: T,
  required: boolean,
) => ({
  middleware: [
    requireJsonBody,
    limitBody({ counting: true }),
    ...(required ? [] : [optionalJsonBody]),
  ],
  request: {
    params: identityParams,
    body: { content: { "application/json": { schema } }, required },
  },
});
const conflict = {
  409: errorResponse("A resource is already linked to another identity; nothing was linked."),
};
/** Only with `"discover"` or `"execute"`: the Seam API call failed (docs/seam-api.md). */
const seamFaults = {
  502: errorResponse("`seam_api_unauthorized` or `seam_api_rejected`: Seam refused the call."),
  503: errorResponse(
    "`service_unavailable` (starting, Postgres unreachable, or with `execute` Redis unreachable) or, with `discover` or `execute`, `seam_api_unavailable` (Seam failed or timed out after retries); with `Retry-After`.",
  ),
};
const getReadiness = createRoute({
  method: "get",
  path: `${BASE}/readiness`,
  summary: "Is the identity ready to delete?",
  security,
  request: { params: identityParams },
  responses: { 200: json(readinessSchema, "The readiness object."), ...errors },
});

const putResources = createRoute({
  method: "put",
  path: `${BASE}/resources`,
  summary: "Link Seam resources to the identity (idempotent)",
  security,
  ...withBody(linksBody, true),
  responses: {
    200: json(readinessSchema, "Linked; the readiness object."),
    ...errors,
    ...conflict,
    ...seamFaults,
  },
});

const postDeletion = createRoute({
  method: "post",
  path: `${BASE}/deletion`,
  summary:
    "Request the deletion of the identity, optionally linking resources; with `execute`, carry it out in Seam",
  security,
  ...withBody(deletionBody, false),
  responses: {
    201: json(readinessSchema, "Deletion recorded; `status` is `ready` at once if nothing blocks."),
    200: json(readinessSchema, "A deletion was already requested."),
    ...errors,
    ...conflict,
    ...seamFaults,
  },
});

const deleteDeletion = createRoute({
  method: "delete",
  path: `${BASE}/deletion`,
  summary: "Cancel the deletion; its waiters answer at once with `deletion` null",
  security,
  request: { params: identityParams },
  responses: {
    204: { description: "Cancelled." },
    ...errors,
    ...deletionNotFound,
  },
});

/**
 * The `/v1` routes of docs/api.md but the waiting ones (src/waiters), declared on an OpenAPI
 * router so the document follows.
 */
export const readinessRoutes = (router: OpenAPIHono, service: ReadinessService) =>
  router
    .openapi(getReadiness, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      return c.json(await service.readOne(id), 200);
    })
    .openapi(putResources, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      // After the path's check, so a bad id is named first.
      if (!sendsBody(c)) throw new AppError("invalid_request", "a JSON body is required");
      return c.json(await service.link(id, c.req.valid("json")), 200);
    })
    .openapi(postDeletion, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      const { created, readiness } = await service.requestDeletion(id, c.req.valid("json"));
      return created ? c.json(readiness, 201) : c.json(readiness, 200);
    })
    .openapi(deleteDeletion, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      if (!(await service.cancelDeletion(id))) throw deletionNotRequested();
      return c.body(null, 204);
    });
