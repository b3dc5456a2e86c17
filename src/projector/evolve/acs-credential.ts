import type { ResourceRules } from "./resource.js";

/** An invalidated credential still exists in Seam and still blocks; only deletion ends it. */
export const acsCredentialRules: ResourceRules = {
  type: "acs_credential",
  idField: "acs_credential_id",
  events: {
    "acs_credential.issued": "live",
    "acs_credential.reissued": "live",
    "acs_credential.invalidated": "live",
    "acs_credential.deleted": "deleted",
  },
};
