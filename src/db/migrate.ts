import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

const MIGRATIONS_FOLDER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../drizzle",
);
/** Arbitrary constant shared by every process of this service: the migration lock's key. */
const MIGRATION_LOCK_KEY = 73_130_001;
const DUPLICATE_DATABASE = "42P04";
const INVALID_CATALOG_NAME = "3D000";

const isPostgresError = (error: unknown, code: string): boolean =>
  error instanceof postgres.PostgresError && error.code === code;

/**
 * Creates the database named in `url` when it does not exist, by connecting to the server's
 * `postgres` database. Two processes racing here both succeed: the loser sees 42P04.
 */
export const ensureDatabase = async (url: string): Promise<void> => {
  const probe = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await probe`select 1`;
    return;
  } catch (error) {
    if (!isPostgresError(error, INVALID_CATALOG_NAME)) throw error;
  } finally {
    await probe.end();
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = "/postgres";
  const admin = postgres(target.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`);
  } catch (error) {
    if (!isPostgresError(error, DUPLICATE_DATABASE)) throw error;
  } finally {
    await admin.end();
  }
};

/**
 * Applies the migrations in `drizzle/`. A session-level advisory lock on a single connection
 * makes processes that start together take turns; the ones that follow find nothing to do.
 */
export const migrateDatabase = async (url: string): Promise<void> => {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await sql.end();
  }
};
