import { sql } from "drizzle-orm";
import { type Db, runPrepared } from "../db/client.js";

/** /readyz's check that Postgres answers on the pool. */
export const pingDatabase = (db: Db) => runPrepared(db, sql`select 1`);

/** The sessions of an application name: /readyz's check that the LISTEN connection is there. */
export const selectSessionsOf = (db: Db, applicationName: string) =>
  runPrepared(db, sql`select 1 from pg_stat_activity where application_name = ${applicationName}`);
