import { sql } from "drizzle-orm";
import { runPrepared, type Tx, uuidArray } from "../db/client.js";
import { favourKeyLookups } from "./favour-key-lookups.js";

/** First key of the two-key advisory lock that serialises work on one user identity. */
const IDENTITY_LOCK_CLASS = 7313;

/**
 * Takes a transaction-scoped advisory lock per identity, in sorted order so two transactions
 * never wait on each other in a cycle.
 *
 * Why: a deletion request and the identity's last deletion event can commit at the same instant.
 * Under READ COMMITTED each would read the other's change as not yet there, and the deletion
 * would stay pending for ever. Holding this lock while either one reads and writes the
 * identity's state makes the one that commits second see the first (every statement after the
 * lock takes a fresh snapshot). Row locks on `resources` are always taken before this lock, by
 * the projector and by links alike, so the lock order is the same everywhere.
 *
 * It also sets the planner's costs for the rest of the transaction (favour-key-lookups.ts).
 * The refresh and the executions' read run only under this lock (in the projector, the API's
 * links and requests, and the executor), so they are always planned at those costs; the
 * readiness read runs both under it and on the pool. The plan test holds every one of them to
 * key lookups at either cost (projector/plans.int.test.ts).
 */
export const lockIdentities = (tx: Tx, identityIds: string[]) => {
  // Sent at once, so it goes before the lock on the connection, whenever the lock is sent. Not
  // awaited: in a transaction, postgres.js holds its failure for the statements after it.
  void favourKeyLookups(tx).execute();
  return runPrepared(tx, lockIdentitiesStatement(identityIds));
};

/** lockIdentities' statement, apart so a test can EXPLAIN exactly what runs. */
export const lockIdentitiesStatement = (identityIds: string[]) => {
  const sorted = [...new Set(identityIds)].sort();
  return sql`
    select pg_advisory_xact_lock(${IDENTITY_LOCK_CLASS}, hashtext(s.id::text))
    from (select id from unnest(${uuidArray(sorted)}) as t(id) order by id) as s`;
};
