import type { ResourceRules } from "./resource.js";

export const clientSessionRules: ResourceRules = {
  type: "client_session",
  idField: "client_session_id",
  events: { "client_session.deleted": "deleted" },
};
