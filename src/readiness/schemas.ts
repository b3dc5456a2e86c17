import { z } from "@hono/zod-openapi";
import { uuid } from "../shared/api.js";
import { executionStrategies } from "../shared/resources.js";
import type { LinkField } from "./link.js";

/** docs/api.md: a list of more than this many ids is a 400. */
const MAX_IDS = 1000;

/**
 * The length is checked before any element, and a list too long stops there: zod's own `.max`
 * marks the list and still validates every element, so a body of 450,000 zeros made 450,000
 * issues (seconds of CPU and hundreds of MB) just to say the list is too long.
 */
const refuseLongList = (value: unknown, ctx: z.RefinementCtx) => {
  if (!Array.isArray(value) || value.length <= MAX_IDS) return value;
  ctx.addIssue({
    code: z.ZodIssueCode.too_big,
    type: "array",
    maximum: MAX_IDS,
    inclusive: true,
    message: `at most ${MAX_IDS} ids`,
    fatal: true,
  });
  return z.NEVER;
};

const idList = (type: string) =>
  z
    .preprocess(refuseLongList, z.array(uuid).max(MAX_IDS))
    .optional()
    .openapi({ description: `Ids of ${type} resources to link to the identity.` });

const linkLists = {
  acs_user_ids: idList("acs_user"),
  acs_credential_ids: idList("acs_credential"),
  enrollment_automation_ids: idList("enrollment_automation"),
  phone_ids: idList("phone"),
  client_session_ids: idList("client_session"),
} satisfies Record<LinkField, unknown>;

const linkFields = {
  ...linkLists,
  discover: z.boolean().optional().openapi({
    description:
      "Also link every resource the Seam API lists for the identity (ACS users, credentials, phones, client sessions, enrollment automations). Needs SEAM_API_KEY: without it, 400 `invalid_request` on `discover`.",
  }),
};

export const linksBody = z
  .object(linkFields)
  // A misspelt list would otherwise link nothing and answer 200.
  .strict()
  .openapi("ResourceLinks", {
    example: { acs_user_ids: ["1b7c0e9a-4f7e-4d55-a1c2-6f5b8c2d9e10"] },
  });

/** `POST …/deletion`: the lists, and whether the service carries out the deletion in Seam. */
export const deletionBody = z
  .object({
    ...linkFields,
    execute: z.boolean().optional().openapi({
      description:
        "Carry out the deletion in Seam (CONTRACT §8): discover and link the identity's resources, delete them step by step (or by cascade), each step woken by the webhooks it waits for, then delete the identity. Needs SEAM_API_KEY: without it, 400 `invalid_request` on `execute`.",
    }),
    strategy: z.enum(executionStrategies).optional().openapi({
      description:
        "`stepwise` (default): Seam's guide, one kind of resource after another. `cascade`: delete the identity first and wait for what was linked to it to be reported gone. Only with `execute`.",
    }),
  })
  .strict()
  .refine((body) => body.strategy === undefined || body.execute === true, {
    message: 'strategy is only taken with "execute": true',
    path: ["strategy"],
  })
  .openapi("DeletionRequest", { example: { execute: true, strategy: "stepwise" } });

/** `GET /v1/deletions`: which, how many, from where (docs/api.md). */
export const listQuery = z.object({
  status: z.enum(["pending", "ready", "all"]).default("pending").openapi({
    description: "`pending` (default), `ready` or `all`.",
  }),
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/, "a whole number from 1 to 500")
    .transform(Number)
    .refine((n) => n <= 500, "at most 500")
    .optional()
    .openapi({ description: "Items a page, 1 to 500; default 50.", type: "integer" }),
  cursor: z.string().max(200).optional().openapi({
    description: "The `next_cursor` of the page before; opaque.",
  }),
});
