import type { Db, Tx } from "../db/client.js";
import type { Execution, Readiness } from "../shared/readiness.js";
import { type ReadinessRow, selectReadiness } from "../sql/select-readiness.js";

const toExecution = (row: ReadinessRow): Execution | null =>
  row.strategy === null || row.execution_status === null || row.started_at === null
    ? null
    : {
        strategy: row.strategy,
        status: row.execution_status,
        step: row.step,
        started_at: row.started_at,
        finished_at: row.finished_at,
        error:
          row.error_code === null
            ? null
            : { code: row.error_code, message: row.error_message ?? "" },
      };

const toReadiness = (row: ReadinessRow): Readiness => ({
  user_identity_id: row.user_identity_id,
  ready: row.blockers.length === 0,
  blockers: row.blockers,
  deletion:
    row.status === null || row.requested_at === null
      ? null
      : {
          status: row.status,
          requested_at: row.requested_at,
          ready_at: row.ready_at,
          execution: toExecution(row),
        },
});

/**
 * The readiness of several identities in one statement, so that a wake that concerns many
 * identities costs one round trip. An identity nothing is known about is ready.
 */
export const readReadiness = async (
  db: Db | Tx,
  identityIds: string[],
): Promise<Map<string, Readiness>> => {
  const ids = [...new Set(identityIds)];
  if (ids.length === 0) return new Map();
  const rows = await selectReadiness(db, ids);
  return new Map(rows.map((row) => [row.user_identity_id, toReadiness(row)]));
};

export const readOneReadiness = async (db: Db | Tx, identityId: string): Promise<Readiness> => {
  const readiness = (await readReadiness(db, [identityId])).get(identityId);
  // unnest() yields one row per id, so a missing row is a bug, not a state.
  if (readiness === undefined) throw new Error(`no readiness row for ${identityId}`);
  return readiness;
};
