import { describe, expect, it } from "vitest";
import { isConnectionError } from "./client.js";

describe("isConnectionError", () => {
  it.each([
    ["CONNECTION_CLOSED"],
    ["CONNECTION_DESTROYED"],
    ["CONNECT_TIMEOUT"],
    ["ECONNREFUSED"],
    ["ECONNRESET"],
    ["08006"], // connection_failure
    ["57P01"], // admin_shutdown (pg_terminate_backend)
    ["57P03"], // cannot_connect_now (starting up, crash recovery)
  ])("%s concerns the connection", (code) => {
    expect(isConnectionError(Object.assign(new Error("x"), { code }))).toBe(true);
  });

  it.each([
    ["23505"], // unique_violation: the statement, not the connection
    ["P0001"], // raise_exception
    ["40P01"], // deadlock_detected
    [undefined],
  ])("%s does not", (code) => {
    expect(isConnectionError(Object.assign(new Error("x"), { code }))).toBe(false);
  });

  it("is false for anything that is not an error with a code", () => {
    expect(isConnectionError(null)).toBe(false);
    expect(isConnectionError("CONNECTION_CLOSED")).toBe(false);
  });
});
