import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";

/** The Postgres channel on which a user identity's id is sent when its readiness changes. */
export const READINESS_CHANNEL = "seam_projector_readiness";

/**
 * Notifies the waiters of one identity without touching its state (a cancelled deletion).
 * NOTIFY is delivered on commit, so a woken waiter reads committed state.
 */
export const notifyReadiness = (tx: Tx, identityId: string) =>
  runPrepared(tx, sql`select pg_notify(${READINESS_CHANNEL}, ${identityId})`);
