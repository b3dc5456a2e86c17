import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";

/**
 * For the rest of the transaction, prices a random page read at the manual's value for storage
 * with cheap random reads (SSDs; the hot tables are in memory anyway) instead of 4. At 4, with
 * 10,000 deletion requests, the planner refreshed 50 identities by scanning the whole
 * pending_deletions table twice and hashing it (5-15 ms on every projection batch that
 * unblocked one, with fresh statistics or without) rather than looking up 50 keys (1.3-2 ms).
 * That was the refresh with its ids as a `uuid[]`, planned for their number; sent as json
 * (db/client.ts, uuidArray) it looks them up at either cost, and these costs stay for the
 * statements and plans the test has not seen.
 *
 * SET LOCAL, sent with the identity locks (lock-identities.ts), not a startup parameter of the
 * pool: PgBouncer refuses a connection that sends one it does not know, and docs/operations.md
 * puts it in front of Postgres. Sent with the statements it is for, so it costs no round trip.
 * In every transaction that takes an identity lock, not only the projector's: a prepared
 * statement's generic plan is made once, under the costs of the run that made it, and kept.
 */
export const favourKeyLookups = (tx: Tx) => runPrepared(tx, sql`set local random_page_cost = 1.1`);
