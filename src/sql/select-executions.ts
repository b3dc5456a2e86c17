import { sql } from "drizzle-orm";
import { type Db, runPrepared, type Tx, uuidArray } from "../db/client.js";
import type {
  CallState,
  CallTarget,
  ExecutionStep,
  ExecutionStrategy,
  ResourceType,
} from "../shared/resources.js";

export type ExecutionCallRow = {
  type: CallTarget;
  id: string;
  step: ExecutionStep;
  state: CallState;
  round: number;
  deadline_at: string | null;
};

export type RunningExecutionRow = {
  user_identity_id: string;
  execution_id: string;
  strategy: ExecutionStrategy;
  step: ExecutionStep | null;
  step_started_at: string | null;
  calls: ExecutionCallRow[];
  /** The identity's linked resources whose deletion has not been projected. */
  live: { type: ResourceType; id: string }[];
};

/**
 * The running executions of these identities, locked, each with its calls and the identity's
 * live resources: what execution/plan.ts decides from. Run it holding lockIdentities.
 */
export const selectRunningExecutions = (tx: Tx, identityIds: string[]) =>
  runPrepared<RunningExecutionRow>(tx, runningExecutionsStatement(identityIds));

/** selectRunningExecutions' statement, apart so a test can EXPLAIN exactly what runs. */
export const runningExecutionsStatement = (identityIds: string[]) => sql`
    select e.user_identity_id::text, e.execution_id::text, e.strategy, e.step,
           e.step_started_at::text,
           coalesce((select json_agg(json_build_object(
                       'type', c.resource_type, 'id', c.resource_id, 'step', c.step,
                       'state', c.state, 'round', c.round, 'deadline_at', c.deadline_at))
                     from execution_calls c where c.user_identity_id = e.user_identity_id),
                    '[]'::json) as calls,
           coalesce((select json_agg(json_build_object('type', r.resource_type, 'id', r.resource_id))
                     from resources r
                     where r.user_identity_id = e.user_identity_id and r.state <> 'deleted'),
                    '[]'::json) as live
    from executions e
    where e.user_identity_id = any(${uuidArray(identityIds)}) and e.status = 'running'
    for update of e`;

/** The identities whose executions are running: what a process re-queues when it starts. */
export const selectRunningExecutionIds = (db: Db) =>
  runPrepared<{ user_identity_id: string }>(
    db,
    sql`select user_identity_id::text from executions where status = 'running' order by started_at`,
  );
