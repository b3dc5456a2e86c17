import { sql } from "drizzle-orm";
import { arrayParam, runPrepared, type Tx } from "../db/client.js";
import { READINESS_CHANNEL } from "./notify-readiness.js";

/** An execution's new step and status: it moved to another step, or completed. */
export type ExecutionUpdate = {
  identityId: string;
  step: string | null;
  status: "running" | "completed";
};

/**
 * Writes the step and status of executions that selectRunningExecutions locked, each of which
 * has just changed step (so the step starts now), and notifies their waiters.
 */
export const updateExecutions = (tx: Tx, rows: ExecutionUpdate[]) =>
  runPrepared(
    tx,
    sql`
    with updated as (
      update executions e
      set step = u.step, status = u.status,
          step_started_at = now(),
          finished_at = case when u.status = 'completed' then now() else e.finished_at end,
          updated_at = now()
      from unnest(${arrayParam(rows.map((r) => r.identityId))}::uuid[],
                  ${arrayParam(rows.map((r) => r.step))}::text[],
                  ${arrayParam(rows.map((r) => r.status))}::text[])
           as u(user_identity_id, step, status)
      where e.user_identity_id = u.user_identity_id
      returning e.user_identity_id
    )
    select pg_notify(${READINESS_CHANNEL}, user_identity_id::text) from updated`,
  );

export type NewCall = {
  identityId: string;
  type: string;
  id: string;
  step: string;
  state: "pending" | "awaiting";
  /** ISO 8601; for an `awaiting` call, when the timeout fallback asks Seam. */
  deadlineAt: string | null;
};

/** Adds calls to executions; a call already there is left as it is. */
export const insertExecutionCalls = (tx: Tx, rows: NewCall[]) => {
  const col = <K extends keyof NewCall>(key: K) => arrayParam(rows.map((row) => row[key]));
  return runPrepared(
    tx,
    sql`
    insert into execution_calls (user_identity_id, resource_type, resource_id, step, state, deadline_at)
    select * from unnest(${col("identityId")}::uuid[], ${col("type")}::text[], ${col("id")}::uuid[],
                         ${col("step")}::text[], ${col("state")}::text[],
                         ${col("deadlineAt")}::text[]::timestamptz[])
    on conflict do nothing`,
  );
};

/** Marks calls complete because their resource's deletion was projected first. */
export const completeExecutionCalls = (
  tx: Tx,
  rows: { identityId: string; type: string; id: string }[],
) =>
  runPrepared(
    tx,
    sql`
    update execution_calls c
    set state = 'done', done_at = now(), answer = coalesce(c.answer, 'deleted')
    from unnest(${arrayParam(rows.map((r) => r.identityId))}::uuid[],
                ${arrayParam(rows.map((r) => r.type))}::text[],
                ${arrayParam(rows.map((r) => r.id))}::uuid[]) as u(user_identity_id, resource_type, resource_id)
    where c.user_identity_id = u.user_identity_id and c.resource_type = u.resource_type
      and c.resource_id = u.resource_id and c.state <> 'done'`,
  );
