import { z } from "@hono/zod-openapi";

/** Seconds a long-poll may wait at most (docs/api.md: above 60 counts as 60). */
const MAX_WAIT_SECONDS = 60;

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
