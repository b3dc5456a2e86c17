import { describe, expect, it } from "vitest";
import { collectLogLines } from "../test/helpers/log-lines.js";
import { waitFor } from "../test/helpers/wait-for.js";
import { chooseLogFormat, createLogger, type LogFormat } from "./log.js";

describe("chooseLogFormat", () => {
  it.each([
    [true, false, "pretty"],
    [true, true, "json"],
    [false, false, "json"],
    [undefined, false, "json"],
    [false, true, "json"],
  ] as const)("stdout a TTY: %s, production: %s → %s", (stdoutIsTTY, production, expected) => {
    expect(chooseLogFormat({ stdoutIsTTY, production })).toBe<LogFormat>(expected);
  });
});

describe("createLogger", () => {
  it("writes one JSON object a line by default, secrets redacted", () => {
    const { lines, sink } = collectLogLines();
    createLogger("info", { role: "api" }, sink).info({ seamApiKey: "seam_secret" }, "started");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: 30,
      msg: "started",
      role: "api",
      service: "seam-projector",
      seamApiKey: "[redacted]",
    });
  });

  it("writes lines a person reads when pretty, secrets still redacted", async () => {
    const { lines, sink } = collectLogLines();
    createLogger("info", { role: "api" }, sink, "pretty").warn(
      { seamApiKey: "seam_secret", queued: 3 },
      "queue is deep",
    );
    await waitFor(() => lines.length >= 1, { message: "a pretty line" });
    const text = lines.join("\n");
    expect(() => JSON.parse(lines[0] ?? "")).toThrow();
    expect(lines[0]).toMatch(/WARN.*queue is deep/);
    expect(text).toContain("queued: 3");
    expect(text).toContain("[redacted]");
    expect(text).not.toContain("seam_secret");
  });
});
