import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";
import type { ResourceType } from "../shared/resources.js";
import type { ExecutionCallRow } from "./select-executions.js";

export type CallForJob = {
  state: ExecutionCallRow["state"];
  round: number;
  delete_calls: number;
  get_calls: number;
  /** The resource's projected state; null for the identity's own call. */
  resource_state: "unknown" | "live" | "deleted" | null;
  workspace_id: string | null;
};

/**
 * One call of a running execution, locked, with its resource's projected state: what a job
 * reads before it calls Seam. No row when the execution is not running under that id (it was
 * canceled or restarted: the job has nothing to do). Run it holding lockIdentities.
 */
export const selectCallForJob = (
  tx: Tx,
  key: { identityId: string; executionId: string; type: string; id: string },
) =>
  runPrepared<CallForJob>(
    tx,
    sql`
    select c.state, c.round, c.delete_calls, c.get_calls, r.state as resource_state, r.workspace_id
    from executions e
    join execution_calls c on c.user_identity_id = e.user_identity_id
    left join resources r on r.resource_type = c.resource_type and r.resource_id = c.resource_id
    where e.user_identity_id = ${key.identityId}::uuid and e.execution_id = ${key.executionId}::uuid
      and e.status = 'running' and c.resource_type = ${key.type} and c.resource_id = ${key.id}::uuid
    for update of c`,
  );

export type CallUpdate = {
  identityId: string;
  type: ResourceType | "user_identity";
  id: string;
  state: ExecutionCallRow["state"];
  round: number;
  /** What Seam answered (`200`, `404`, …); null leaves the last answer. */
  answer: string | null;
  /** 1 when this update records a delete (or get) being sent. */
  addDeleteCalls: number;
  addGetCalls: number;
  deadlineAt: string | null;
};

/** Records a call's progress: sent, answered, awaiting its event, or done. */
export const updateExecutionCall = (tx: Tx, u: CallUpdate) =>
  runPrepared(
    tx,
    sql`
    update execution_calls
    set state = ${u.state}, round = ${u.round}, answer = coalesce(${u.answer}, answer),
        delete_calls = delete_calls + ${u.addDeleteCalls}::int,
        get_calls = get_calls + ${u.addGetCalls}::int,
        called_at = case when ${u.addDeleteCalls}::int + ${u.addGetCalls}::int > 0 then now() else called_at end,
        answered_at = case when ${u.answer}::text is null then answered_at else now() end,
        deadline_at = ${u.deadlineAt}::timestamptz,
        done_at = case when ${u.state} = 'done' then now() else null end
    where user_identity_id = ${u.identityId}::uuid and resource_type = ${u.type}
      and resource_id = ${u.id}::uuid`,
  );
