import type { Db, Tx } from "../db/client.js";
import type { Readiness } from "../shared/readiness.js";
import { type ReadinessRow, selectReadiness } from "../sql/select-readiness.js";

const toReadiness = (row: ReadinessRow): Readiness => ({
  user_identity_id: row.user_identity_id,
  ready: row.blockers.length === 0,
  blockers: row.blockers,
  deletion:
    row.status === null || row.requested_at === null
      ? null
      : { status: row.status, requested_at: row.requested_at, ready_at: row.ready_at },
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
