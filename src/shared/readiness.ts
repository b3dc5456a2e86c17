import type {
  ExecutionStatus,
  ExecutionStep,
  ExecutionStrategy,
  ResourceType,
} from "./resources.js";

/** A linked resource whose deletion event has not been projected (docs/api.md). */
type Blocker = { type: ResourceType; id: string };

/** The deletion carried out in Seam by the service (CONTRACT §8), when one was asked for. */
export type Execution = {
  strategy: ExecutionStrategy;
  status: ExecutionStatus;
  /** The step in hand; null once completed; when failed, the step it failed in. */
  step: ExecutionStep | null;
  started_at: string;
  finished_at: string | null;
  error: { code: string; message: string } | null;
};

type Deletion = {
  status: "pending" | "ready";
  requested_at: string;
  ready_at: string | null;
  execution: Execution | null;
};

/** The readiness object of docs/api.md, exactly as the API answers it. */
export type Readiness = {
  user_identity_id: string;
  ready: boolean;
  blockers: Blocker[];
  deletion: Deletion | null;
};
