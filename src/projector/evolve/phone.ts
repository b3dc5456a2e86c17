import type { ResourceRules } from "./resource.js";

/** A phone is a device: `phone.deactivated` names it by `device_id` (CONTRACT §4). */
export const phoneRules: ResourceRules = {
  type: "phone",
  idField: "device_id",
  events: { "phone.deactivated": "deleted" },
};
