import type { ResourceType } from "./resources.js";

/** A linked resource whose deletion event has not been projected (docs/api.md). */
type Blocker = { type: ResourceType; id: string };

type Deletion = {
  status: "pending" | "ready";
  requested_at: string;
  ready_at: string | null;
};

/** The readiness object of docs/api.md, exactly as the API answers it. */
export type Readiness = {
  user_identity_id: string;
  ready: boolean;
  blockers: Blocker[];
  deletion: Deletion | null;
};
