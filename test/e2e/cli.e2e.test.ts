import { spawn } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";
import { useHarness } from "../helpers/harness.js";
import { ROOT } from "../helpers/process.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { loadFixture } from "../helpers/queue.js";
import { waitFor } from "../helpers/wait-for.js";

const FIXTURE = path.join(ROOT, "test/fixtures/single-identity.jsonl");

/** `npm run cli -- …` without npm: the same entry, run through tsx. */
const runCli = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });

const harness = useHarness();

test("replay --shuffle --duplicate 2 projects the fixture and prints a summary", async () => {
  const { database, service, queue, secret } = harness();
  const fixture = await loadFixture("single-identity.jsonl");
  const args = ["--url", service.webhookUrl, "--secret", secret, "--shuffle", "--duplicate", "2"];
  const result = await runCli(["replay", FIXTURE, ...args]);

  expect(result.stderr).not.toMatch(/failed|error/i);
  expect(result.code).toBe(0);
  const total = fixture.length * 2;
  expect(result.stdout).toContain(`${total} of ${total} deliveries accepted`);
  await waitFor(async () => (await countEvents(database.sql)) === fixture.length, {
    timeoutMs: 15_000,
    message: "every event projected",
  });
  await waitFor(async () => (await queue.counts()).completed === fixture.length);
  await expectProjectionOf(database.sql, fixture);
});

test("a wrong secret stops at the first 401 and exits 1, naming the line", async () => {
  const result = await runCli([
    "replay",
    FIXTURE,
    "--url",
    harness().service.webhookUrl,
    "--concurrency",
    "1",
  ]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /single-identity\.jsonl:1 \(event [0-9a-f-]+\): 401 invalid_signature/,
  );
  expect(result.stdout).toMatch(/0 of \d+ deliveries accepted, 0 retried, 1 failed, \d+ skipped/);
});

test("bad arguments exit 2 with the usage text", async () => {
  const result = await runCli(["replay", FIXTURE, "--duplicate", "zero"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('--duplicate must be a positive whole number, not "zero"');
  expect(result.stderr).toContain("Usage:");
});

test("a fixture line that is not an event exits 1, naming the line", async () => {
  const result = await runCli(["replay", path.join(ROOT, "package.json")]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/package\.json:1: not valid JSON/);
});
