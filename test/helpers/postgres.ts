import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createDb, createPool, type Db, type Sql } from "../../src/db/client.js";

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
    db: createDb(sql),
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
