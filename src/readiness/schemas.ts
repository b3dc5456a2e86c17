import { z } from "@hono/zod-openapi";
import { uuid } from "../shared/api.js";
import type { LinkField } from "./link.js";

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
