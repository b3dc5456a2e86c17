import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";
import { READINESS_CHANNEL } from "./notify-readiness.js";

/**
 * Fails a running execution (CONTRACT §8) and notifies its waiters; no row when it was not
 * running under that execution id (canceled, restarted, or failed already).
 */
export const failExecution = (
  tx: Tx,
  identityId: string,
  executionId: string,
  error: { code: string; message: string },
) =>
  runPrepared<{ notified: string }>(
    tx,
    sql`
    with failed as (
      update executions
      set status = 'failed', error_code = ${error.code}, error_message = ${error.message},
          finished_at = now(), updated_at = now()
      where user_identity_id = ${identityId}::uuid and execution_id = ${executionId}::uuid
        and status = 'running'
      returning user_identity_id
    )
    select pg_notify(${READINESS_CHANNEL}, user_identity_id::text)::text as notified from failed`,
  );
