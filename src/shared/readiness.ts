import type { ResourceType } from "./resources.js";

/** A linked resource whose deletion event has not been projected (CONTRACT §5). */
type Blocker = { type: ResourceType; id: string };

type Deletion = {
  status: "pending" | "ready";
  requested_at: string;
  ready_at: string | null;
};

/** The readiness object of CONTRACT §5, exactly as the API answers it. */
export type Readiness = {
  user_identity_id: string;
  ready: boolean;
  blockers: Blocker[];
  deletion: Deletion | null;
};
