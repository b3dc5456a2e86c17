import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { afterAll, beforeAll, inject } from "vitest";
import { createPool, type Db, type Sql } from "../../src/db/client.js";
import { freePort, type ServerChild, spawnChild, startServerChild } from "./process.js";

/** The server the tests use; its `postgres` database is the admin connection. */
const SERVER_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export const databaseUrl = (name: string): string => {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

export const adminSql = (): Sql => postgres(SERVER_URL, { max: 1, onnotice: () => {} });

export type TestDatabase = {
  name: string;
  url: string;
  sql: Sql;
  db: Db;
  drop: () => Promise<void>;
};

/** A fresh, migrated database of this test file's own, copied from the run's template. */
export const createTestDatabase = async (options: { max?: number } = {}): Promise<TestDatabase> => {
  const name = `sp_test_${randomBytes(6).toString("hex")}`;
  const admin = adminSql();
  try {
    await admin.unsafe(`create database ${name} template ${inject("templateDatabase")}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const sql = createPool(url, { max: options.max ?? 5, applicationName: "seam-projector-test" });
  return {
    name,
    url,
    sql,
    db: sql,
    drop: async () => {
      await sql.end({ timeout: 1 });
      const dropper = adminSql();
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
};

/**
 * A test file's own database for its whole run: created before its tests, dropped after them.
 * Returns a getter, since the database exists only once `beforeAll` has run.
 */
export const useTestDatabase = (options: { max?: number } = {}): (() => TestDatabase) => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(options);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return () => {
    if (database === undefined) throw new Error("the test database is made in beforeAll");
    return database;
  };
};

/** The newest installed server's programs (Debian keeps them out of PATH), or PATH's. */
const postgresProgram = (name: string): string => {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(path.join(root, version, "bin", name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions[0] === undefined ? name : path.join(root, versions[0], "bin", name);
};

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` OS user. */
const postgresUser = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
  return { uid: id("-u"), gid: id("-g") };
};

export type PostgresServer = ServerChild & {
  port: number;
  /** A URL for database `name` on this server (user postgres, trust authentication). */
  url: (name: string) => string;
  close: () => Promise<void>;
};

/**
 * A Postgres cluster of the test's own, on a free port of 127.0.0.1, for a test that takes
 * Postgres away. Stop it with SIGQUIT for a crash (immediate shutdown, crash recovery at the
 * next start). fsync is off because only the server process is ever killed, never the machine,
 * and a killed server loses nothing it had committed without it.
 */
export const startPostgresServer = async (): Promise<PostgresServer> => {
  const user = postgresUser();
  const dir = await mkdtemp(path.join(tmpdir(), "sp-pg-"));
  if (user) await chown(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const initdb = spawnChild(
    postgresProgram("initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
    user ? { user } : {},
  );
  if ((await initdb.exited) !== 0) throw new Error(`initdb failed:\n${initdb.output()}`);
  const port = await freePort();
  const url = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"];
  const server = await startServerChild(postgresProgram("postgres"), [...args, "-c", "fsync=off"], {
    ready: async () => {
      const probe = postgres(url("postgres"), { max: 1, connect_timeout: 1, onnotice: () => {} });
      try {
        return (await probe`select 1 as one`).length === 1;
      } finally {
        await probe.end({ timeout: 1 });
      }
    },
    name: `postgres on port ${port}`,
    ...(user ? { user } : {}),
  });
  return Object.assign(server, {
    port,
    url,
    close: async () => {
      // SIGINT is Postgres's fast shutdown: it ends the sessions and exits at once.
      await server.stop("SIGINT");
      await rm(dir, { recursive: true, force: true });
    },
  });
};

/**
 * Makes Postgres itself fail the write that marks one resource deleted, through a trigger:
 * `raise` fails that statement (the transaction aborts, the connection lives), `terminate` ends
 * the backend mid-transaction (the connection is lost). Resolves with the undo.
 */
export const failDeletionWrite = (sql: Sql, resourceId: string, how: "raise" | "terminate") =>
  beforeUpdate(
    sql,
    "resources",
    `if new.resource_id = '${resourceId}' and new.state = 'deleted' then
       ${
         how === "raise"
           ? "raise exception 'test refused the write of %', new.resource_id;"
           : "perform pg_terminate_backend(pg_backend_pid());"
       }
     end if;`,
  );

/**
 * Runs `body` (PL/pgSQL, `new` the row) before every row update of `table`, through a trigger:
 * a test's way to make Postgres itself fail a write. Resolves with the undo.
 */
export const beforeUpdate = async (
  sql: Sql,
  table: string,
  body: string,
): Promise<() => Promise<void>> => {
  const name = `before_update_${randomBytes(4).toString("hex")}`;
  await sql.unsafe(`
    create function ${name}() returns trigger language plpgsql as $$
    begin
      ${body}
      return new;
    end $$;
    create trigger ${name} before update on ${table} for each row execute function ${name}();`);
  return async () => {
    await sql.unsafe(`drop trigger ${name} on ${table}; drop function ${name}();`);
  };
};

/** A parameter as an SQL literal: a string quoted, an array as ARRAY[…] of its elements. */
const literal = (value: unknown): string => {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `array[${value.map(literal).join(", ")}]`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  // An object would become '[object Object]' and EXPLAIN another statement than the one run.
  throw new Error(`explainPlan cannot write a ${typeof value} parameter as a literal`);
};

const planDialect = new PgDialect();

/**
 * EXPLAIN (ANALYZE) of a statement as the service builds it (a src/sql `…Statement`), as JSON
 * text: its custom plan (the values bound), or with `generic` the plan a prepared statement
 * may switch to after five runs, which shows only through PREPARE and EXPLAIN EXECUTE under
 * `plan_cache_mode = force_generic_plan` (the values then go in as literals, cast to the types
 * Postgres inferred; SET LOCAL, so call it in a transaction). It runs the statement: in a
 * transaction that rolls back, when the statement writes.
 */
export const explainPlan = async (
  sql: Pick<Sql, "unsafe">,
  statement: SQL,
  options: { generic?: boolean } = {},
): Promise<string> => {
  const { sql: text, params } = planDialect.sqlToQuery(statement);
  if (!options.generic) {
    const [row] = await sql.unsafe(`explain (analyze, format json) ${text}`, params as never[]);
    return JSON.stringify(row);
  }
  const name = `planned_${randomBytes(4).toString("hex")}`;
  await sql.unsafe("set local plan_cache_mode = force_generic_plan");
  await sql.unsafe(`prepare ${name} as ${text}`);
  try {
    const [prepared] = await sql.unsafe<{ types: string[] }[]>(
      "select parameter_types::text[] as types from pg_prepared_statements where name = $1",
      [name],
    );
    // A json parameter goes as its JSON text, as postgres.js sends it (db/client.ts: jsonParam).
    const args = (prepared?.types ?? []).map((type, slot) =>
      type === "json" || type === "jsonb"
        ? `${literal(JSON.stringify(params[slot]))}::${type}`
        : `${literal(params[slot])}::${type}`,
    );
    const [row] = await sql.unsafe(
      `explain (analyze, format json) execute ${name}(${args.join(", ")})`,
    );
    return JSON.stringify(row);
  } finally {
    await sql.unsafe(`deallocate ${name}`).catch(() => undefined);
  }
};
