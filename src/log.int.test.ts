import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../test/helpers/postgres.js";
import { createLogger } from "./log.js";

/**
 * A postgres.js error carries the statement (`query`), its values (`parameters`, `args`) and
 * Postgres' `detail`; with a `debug` hook set they are enumerable, and pino's own serializer
 * copied them onto the log line. Only type, message, code, stack and cause are logged.
 */
describe("the err serializer, with a real postgres.js error", () => {
  const testDatabase = useTestDatabase({ max: 1 });

  it("logs neither the statement nor its parameters, and keeps the cause", async () => {
    const sql = postgres(testDatabase().url, { max: 1, debug: () => {}, onnotice: () => {} });
    const secret = `secret-parameter-${randomUUID()}`;
    let failure: unknown;
    try {
      await sql`select ${secret}::text as value from no_such_table_marker_in_query`;
    } catch (error) {
      failure = error;
    } finally {
      await sql.end();
    }
    expect(failure).toMatchObject({ code: "42P01", parameters: [secret] });

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger("info", {}, sink);
    log.error({ err: failure }, "statement failed");
    log.error({ err: new Error("write failed", { cause: failure }) }, "wrapped");

    const [direct, wrapped] = lines.map((line) => JSON.parse(line) as { err: unknown });
    expect(lines.join("\n")).not.toContain(secret);
    expect(lines.join("\n")).not.toContain("select");
    expect(direct?.err).toEqual({
      type: "PostgresError",
      message: 'relation "no_such_table_marker_in_query" does not exist',
      code: "42P01",
      stack: expect.any(String),
    });
    expect(wrapped?.err).toMatchObject({
      message: "write failed",
      cause: { type: "PostgresError", code: "42P01" },
    });
  });
});
