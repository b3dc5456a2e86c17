import type { ResourceRules } from "./resource.js";

export const enrollmentAutomationRules: ResourceRules = {
  type: "enrollment_automation",
  idField: "enrollment_automation_id",
  events: { "enrollment_automation.deleted": "deleted" },
};
