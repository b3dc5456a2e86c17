import { sql } from "drizzle-orm";
import { arrayParam, type Db, runPrepared, type Tx } from "../db/client.js";
import type { Readiness } from "../shared/readiness.js";

type ReadinessRow = {
  user_identity_id: string;
  blockers: Readiness["blockers"];
  status: NonNullable<Readiness["deletion"]>["status"] | null;
  requested_at: string | null;
  ready_at: string | null;
};

/** ISO 8601 in UTC with milliseconds, the way JSON dates usually look. */
const isoUtc = (column: ReturnType<typeof sql.raw>) =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

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
 * The readiness of several identities in one statement, so that blockers and deletion come from
 * one snapshot (they agree: both are written under the identity lock) and a wake that concerns
 * many identities costs one round trip. An identity nothing is known about is ready.
 */
export const readReadiness = async (
  db: Db | Tx,
  identityIds: string[],
): Promise<Map<string, Readiness>> => {
  const ids = [...new Set(identityIds)];
  if (ids.length === 0) return new Map();
  const query = sql`
    select i.id::text as user_identity_id,
           coalesce((select json_agg(json_build_object('type', r.resource_type, 'id', r.resource_id)
                                     order by r.resource_type, r.resource_id)
                     from resources r
                     where r.user_identity_id = i.id and r.state <> 'deleted'), '[]'::json) as blockers,
           d.status,
           ${isoUtc(sql.raw("d.requested_at"))} as requested_at,
           ${isoUtc(sql.raw("d.ready_at"))} as ready_at
    from unnest(${arrayParam(ids)}::uuid[]) as i(id)
    left join pending_deletions d on d.user_identity_id = i.id`;
  // Outside a transaction (every waiter's wake, every GET) as a prepared statement: one round
  // trip instead of two.
  const rows =
    "$client" in db
      ? await runPrepared<ReadinessRow>(db.$client, query)
      : await db.execute<ReadinessRow>(query);
  return new Map(rows.map((row) => [row.user_identity_id, toReadiness(row)]));
};

export const readOneReadiness = async (db: Db | Tx, identityId: string): Promise<Readiness> => {
  const readiness = (await readReadiness(db, [identityId])).get(identityId);
  // unnest() yields one row per id, so a missing row is a bug, not a state.
  if (readiness === undefined) throw new Error(`no readiness row for ${identityId}`);
  return readiness;
};
