import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.js";

export type Sql = postgres.Sql;
export const createDb = (sql: Sql) => drizzle(sql, { schema });
export type Db = ReturnType<typeof createDb>;
/** A drizzle handle inside a transaction; feature functions take it so callers can compose. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export type PoolOptions = { max: number; applicationName: string };

/**
 * A postgres.js pool. Notices are dropped (migrations print "already exists" notices), and
 * connections are recycled so a restarted Postgres is picked up without a restart of ours.
 *
 * The reconnect backoff is ours, not postgres.js's: its default grows with a retry count that
 * the whole pool shares (3^n / 100 s, up to 20 s), so an outage of a few seconds, in which
 * every slot fails to connect again and again, left slots sleeping up to 20 s after Postgres
 * was back, with the queries handed to them (a batch of jobs, a waiter's read) hanging that
 * long. Capped at 1 s, a slot tries at most once a second while Postgres is down.
 */
export const createPool = (url: string, options: PoolOptions): Sql =>
  postgres(url, {
    max: options.max,
    onnotice: () => {},
    idle_timeout: 30,
    max_lifetime: 60 * 30,
    connect_timeout: 5,
    backoff: (retries) => Math.min(0.05 * 2 ** retries, 1),
    connection: { application_name: options.applicationName },
  });

/**
 * One array as one bound parameter. Drizzle's `sql` template would otherwise expand a JS array
 * into a parenthesised list of parameters. Batch statements pass whole columns this way and
 * `unnest` them, so one statement text serves any batch size.
 *
 * Timestamps must travel as `text[]` and be cast in SQL (`::text[]::timestamptz[]`): drizzle
 * replaces postgres.js's serializer for `timestamptz[]` with a pass-through.
 */
export const arrayParam = (values: readonly unknown[]) => sql.param(values);

const dialect = new PgDialect();

/**
 * Runs a drizzle `sql` query on a postgres.js connection as a named prepared statement, parsed
 * once per connection and then only bound and executed. Drizzle's own `execute` sends unnamed
 * statements, which postgres.js runs in two round trips each (parse and describe, then bind and
 * execute). Not awaited, queries issued one after another on one reserved connection are
 * pipelined: written together, answered together.
 */
export const runPrepared = <Row extends Record<string, unknown> = Record<string, unknown>>(
  connection: Pick<Sql, "unsafe">,
  query: SQL,
) => {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return connection.unsafe<Row[]>(text, params as postgres.ParameterOrJSON<never>[], {
    prepare: true,
  });
};

/**
 * True for an error that says the database could not be reached or the connection was lost
 * (postgres.js's CONNECT_TIMEOUT, CONNECTION_CLOSED and kin, a refused or reset socket, or
 * Postgres's own "connection exception" and "operator intervention" classes, 08 and 57P): it
 * concerns the connection, not the statement, so retrying statement by statement is pointless.
 */
export const isConnectionError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return (
    code.startsWith("CONNECT") ||
    code.startsWith("ECONN") ||
    code === "EPIPE" ||
    code === "ETIMEDOUT" ||
    code.startsWith("08") ||
    code.startsWith("57P")
  );
};
