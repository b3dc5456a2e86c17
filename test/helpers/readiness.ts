import { randomUUID } from "node:crypto";
import type { Readiness } from "../../src/shared/readiness.js";

export { followEvents, readEvents, TEST_TOKEN } from "./client.js";
export type { Readiness };

export type LinkableType = Readiness["blockers"][number]["type"];

/** The Seam event that deletes one resource, with the fields @seamapi/types requires. */
export const deletionEvent = (
  type: LinkableType,
  id: string,
  at: Date = new Date(),
): Record<string, unknown> => {
  const base = {
    event_id: randomUUID(),
    workspace_id: randomUUID(),
    created_at: at.toISOString(),
    occurred_at: at.toISOString(),
  };
  const acs = { acs_system_id: randomUUID(), connected_account_id: randomUUID() };
  switch (type) {
    case "acs_user":
      return { ...base, ...acs, event_type: "acs_user.deleted", acs_user_id: id };
    case "acs_credential":
      return { ...base, ...acs, event_type: "acs_credential.deleted", acs_credential_id: id };
    case "enrollment_automation":
      return {
        ...base,
        event_type: "enrollment_automation.deleted",
        enrollment_automation_id: id,
      };
    case "phone":
      return { ...base, event_type: "phone.deactivated", device_id: id };
    case "client_session":
      return { ...base, event_type: "client_session.deleted", client_session_id: id };
  }
};
