import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";

/**
 * One way to run a statement, one transaction type. Drizzle describes the tables
 * (`schema.ts`, for drizzle-kit's migrations) and builds statement text (its `sql` template);
 * postgres.js runs every statement, through `runPrepared`, on the pool or inside `db.begin`.
 * Each statement lives once, in a file of its own under `src/sql/`.
 */
export type Sql = postgres.Sql;
/** The pool: a statement run on it takes any free connection. */
export type Db = Sql;
/** A transaction, from `db.begin(tx => …)`: the projector's batch and the deletion requests. */
export type Tx = postgres.TransactionSql;

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
 * Timestamps travel as ISO strings in `text[]` and are cast in SQL (`::text[]::timestamptz[]`),
 * and timestamps are read back as text (`::text`, `to_char`): no statement depends on how the
 * driver serializes or parses dates.
 */
export const arrayParam = (values: readonly unknown[]) => sql.param(values);

/**
 * A value as one bound parameter for a placeholder cast to `::json` in the statement: postgres.js
 * learns the type from Postgres when it prepares the statement and serializes the value with
 * `JSON.stringify`. Dates become ISO strings; `undefined` properties are left out (read as null).
 */
export const jsonParam = (value: unknown) => sql.param(value);

/**
 * Ids as a `uuid[]` expression for the statements that run on every batch or wake (`= any(…)`,
 * `unnest(…)`), sent as one `json` parameter rather than a `uuid[]` one. Given an array
 * parameter, Postgres plans for its length: a prepared statement's custom plan (1 id) then looks
 * cheaper than its generic plan (10 ids, its guess), so it is planned again at every execution.
 * Through json the length is unknown to every plan alike, and after five executions the generic
 * plan is kept. The readiness read for one id after an idle 20 ms took 0.72 ms instead of 0.95
 * (p50 of 150, alternated; .scratch measurement, planning 0.13-0.6 ms of it).
 */
export const uuidArray = (ids: readonly string[]) =>
  sql`array(select value::uuid from json_array_elements_text(${jsonParam(ids)}::json))`;

/** A timestamp column read back as ISO 8601 text in UTC, with milliseconds (`…T…:…:….123Z`). */
export const isoUtc = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

const dialect = new PgDialect();

/**
 * Runs a statement on the pool or in a transaction as a named prepared statement, parsed once
 * per connection and then only bound and executed: one round trip, where an unnamed statement
 * takes two (parse and describe, then bind and execute). The query is lazy, as postgres.js's
 * are: it is sent when awaited or `.execute()`d, so statements issued one after another in one
 * transaction without awaiting are pipelined: written together, answered together.
 */
export const runPrepared = <Row extends Record<string, unknown> = Record<string, unknown>>(
  connection: Db | Tx,
  query: SQL,
) => {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return connection.unsafe<Row[]>(text, params as postgres.ParameterOrJSON<never>[], {
    prepare: true,
  });
};

/**
 * Sends `queries` together and waits for every answer (not just the first failure: a connection
 * goes back to the pool only once nothing is in flight on it); throws the first error. Queries
 * are sent in the order given, as each lazy one is sent when awaited; one started before (an
 * `.execute()`d query, or an async function already running) was sent when it started.
 */
export const pipeline = async <T extends unknown[]>(
  queries: {
    [K in keyof T]: Promise<T[K]>;
  },
) => {
  const settled = await Promise.allSettled(queries);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
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
