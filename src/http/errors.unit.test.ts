import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { createLogger } from "../log.js";
import { createOnError } from "./errors.js";

describe("createOnError", () => {
  it("answers an AppError's code and message, and logs its cause, which the answer leaves out", async () => {
    const lines: { msg: string; err?: { message: string; cause?: { message: string } } }[] = [];
    const log = createLogger(
      "info",
      {},
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    const app = new Hono()
      .get("/queued", () => {
        throw new AppError("service_unavailable", "could not be queued", undefined, {
          cause: new Error("Connection is closed."),
        });
      })
      .onError(createOnError(log));
    const response = await app.request("/queued");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      error: { code: "service_unavailable", message: "could not be queued" },
    });
    expect(body).not.toContain("Connection is closed");
    const failed = lines.find((line) => line.msg === "request failed");
    expect(failed?.err?.message).toBe("could not be queued");
    expect(failed?.err?.cause?.message).toBe("Connection is closed.");
  });
});
