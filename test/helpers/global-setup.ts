import type { TestProject } from "vitest/node";
import { migrateDatabase } from "../../src/db/migrate.js";
import { adminSql, databaseUrl } from "./postgres.js";

/**
 * Migrates one template database per test run; every test file then gets its own database,
 * copied from the template in milliseconds (graphile-worker's trick). The name carries the pid
 * so two runs on one machine never share or drop each other's databases.
 */
export default async function setup(project: TestProject) {
  const template = `sp_tpl_${process.pid}`;
  const admin = adminSql();
  await admin.unsafe(`drop database if exists ${template} with (force)`);
  await admin.unsafe(`create database ${template}`);
  await migrateDatabase(databaseUrl(template));
  project.provide("templateDatabase", template);
  return async () => {
    await admin.unsafe(`drop database if exists ${template} with (force)`);
    await admin.end();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
