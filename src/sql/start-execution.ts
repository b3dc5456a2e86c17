import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";
import type { ExecutionStrategy } from "../shared/resources.js";

/**
 * Starts an execution of the identity's pending deletion, step not chosen yet (advance does);
 * returns no row when the deletion has one already. Run it holding lockIdentities.
 */
export const insertExecution = (
  tx: Tx,
  identityId: string,
  executionId: string,
  strategy: ExecutionStrategy,
) =>
  runPrepared<{ user_identity_id: string }>(
    tx,
    sql`
    insert into executions (user_identity_id, execution_id, strategy, status)
    values (${identityId}::uuid, ${executionId}::uuid, ${strategy}, 'running')
    on conflict (user_identity_id) do nothing
    returning user_identity_id`,
  );

/**
 * Resumes a failed execution from the step it failed in, under a new execution id (so the
 * jobs of the failed run find nothing to do): its calls not complete are made again, each
 * with its fallback rounds and checks back to none (a resource still there gets its three gets
 * again). Returns no row unless it had failed.
 */
export const resumeExecution = (tx: Tx, identityId: string, executionId: string) =>
  runPrepared<{ user_identity_id: string }>(
    tx,
    sql`
    with resumed as (
      update executions
      set status = 'running', execution_id = ${executionId}::uuid, error_code = null,
          error_message = null, finished_at = null, updated_at = now()
      where user_identity_id = ${identityId}::uuid and status = 'failed'
      returning user_identity_id
    ), calls as (
      update execution_calls c set state = 'pending', round = 0, get_calls = 0, deadline_at = null
      from resumed r
      where c.user_identity_id = r.user_identity_id and c.state <> 'done'
    )
    select user_identity_id::text from resumed`,
  );
