import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodError, ZodIssue } from "zod";
import { AppError } from "../errors.js";
import { mountDocsPage } from "./docs-page.js";

/** A name the client chose, cut short: an error answer does not grow with the request. */
const named = (key: string): string => (key.length > 100 ? `${key.slice(0, 100)}…` : key);

/** `acs_user_ids[2]`, `user_identity_id`: the input at fault, the way a client wrote it. */
const fieldOf = (issue: ZodIssue): string | undefined => {
  if (issue.code === "unrecognized_keys") return issue.keys[0] && named(issue.keys[0]);
  let field = "";
  for (const part of issue.path) {
    field += typeof part === "number" ? `[${part}]` : field === "" ? part : `.${part}`;
  }
  return field === "" ? undefined : field;
};

const describe = (issue: ZodIssue, field: string | undefined): string => {
  if (issue.code === "unrecognized_keys") {
    // The first only: a body of 80,000 unknown keys once got all of them back, 629 KB.
    const more = issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more)` : "";
    return `unknown field ${field ?? ""}${more}`;
  }
  if (issue.code === "invalid_string" && issue.validation === "uuid") {
    return `${field ?? "value"} must be a UUID`;
  }
  // A message that already names its field ("wait must be …") is not prefixed with it again.
  return field === undefined || issue.message.startsWith(`${field} `)
    ? issue.message
    : `${field}: ${issue.message}`;
};

/** Every failed zod validation becomes the one 400 envelope, naming the first field at fault. */
const validationError = (error: ZodError): AppError => {
  const issue = error.issues[0];
  if (issue === undefined) return new AppError("invalid_request", "invalid request");
  const field = fieldOf(issue);
  return new AppError("invalid_request", describe(issue, field), field);
};

const BEARER_SCHEME = "bearerAuth";

/** The `security` of a route behind the bearer tokens. */
export const bearerSecurity = [{ [BEARER_SCHEME]: [] }];

/** A router whose routes are described in the OpenAPI document as they are declared. */
export const createOpenApiRouter = () => {
  const router = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
  router.openAPIRegistry.registerComponent("securitySchemes", BEARER_SCHEME, {
    type: "http",
    scheme: "bearer",
    description: "One of the tokens in API_TOKENS.",
  });
  return router;
};

/** Serves the document at `/openapi.json` and a readable reference (Swagger UI) at `/docs`. */
export const mountDocs = (router: OpenAPIHono) => {
  router.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "seam-projector",
      version: "1",
      description:
        "Is a Seam user identity ready to delete? Answers from projected Seam webhooks, and waits for the moment it is.",
    },
  });
  mountDocsPage(router);
};
