import type { ResourceRules } from "./resource.js";

export const acsUserRules: ResourceRules = {
  type: "acs_user",
  idField: "acs_user_id",
  events: { "acs_user.created": "live", "acs_user.deleted": "deleted" },
};
