/**
 * The Seam resources that block a user identity's deletion (docs/api.md), by the names the API
 * answers with. The bottom layer: every feature may import it, it imports nothing of theirs.
 */
export const resourceTypes = [
  "acs_user",
  "acs_credential",
  "enrollment_automation",
  "phone",
  "client_session",
] as const;

export type ResourceType = (typeof resourceTypes)[number];
