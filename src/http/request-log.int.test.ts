import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Service } from "../../test/helpers/harness.js";
import { collectLogLines } from "../../test/helpers/log-lines.js";
import { TEST_TOKEN } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { createLogger } from "../log.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the service logs, line by line, as its log collector would read it. */
describe("what a request leaves in the log", () => {
  const { lines, sink } = collectLogLines();
  let harness: Harness;
  let service: Service;
  beforeAll(async () => {
    harness = await createHarness();
    service = await harness.start({
      role: "api",
      env: { LOG_LEVEL: "info" },
      log: createLogger("info", {}, sink),
    });
  });
  afterAll(async () => {
    await harness?.close();
  });

  const readiness = (id: string, requestId: string) =>
    fetch(`${service.url}/v1/user_identities/${id}/readiness`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "x-request-id": requestId },
    });
  const requestLine = (identity: string) =>
    waitFor(() => lines.find((line) => line.includes(identity) && line.includes('"request"')), {
      message: "the request's closing line",
    });

  it("replaces a request id that is not a UUID, so a token sent as one is never logged", async () => {
    for (const sent of [TEST_TOKEN, `Bearer ${TEST_TOKEN}`, "abc=def-123_456"]) {
      const identity = randomUUID();
      const response = await readiness(identity, sent);
      expect(response.status).toBe(200);
      const echoed = response.headers.get("x-request-id") ?? "";
      expect(echoed).toMatch(UUID);
      expect(JSON.parse(await requestLine(identity))).toMatchObject({ requestId: echoed });
    }
    expect(lines.join("\n")).not.toContain(TEST_TOKEN);
  });

  it("keeps a UUID request id, echoed and logged", async () => {
    const identity = randomUUID();
    const sent = randomUUID();
    const response = await readiness(identity, sent.toUpperCase());
    expect(response.headers.get("x-request-id")).toBe(sent);
    expect(JSON.parse(await requestLine(identity))).toMatchObject({ requestId: sent });
  });

  it("logs a failed /v1 write with its request id, without the values of its statement", async () => {
    // Postgres refuses every write to resources; the error's `detail` names the row's id, as a
    // key violation's does ("Key (…)=(…) already exists").
    await harness.database.sql.unsafe(`
      create function refuse_links() returns trigger language plpgsql as $$
      begin
        raise exception 'test refused the write' using detail = 'resource ' || new.resource_id;
      end $$;
      create trigger refuse_links before insert or update on resources
        for each row execute function refuse_links();`);
    try {
      const identity = randomUUID();
      const acsUser = randomUUID();
      const response = await fetch(`${service.url}/v1/user_identities/${identity}/resources`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ acs_user_ids: [acsUser] }),
      });
      expect(response.status).toBeGreaterThanOrEqual(500);
      const failed = await waitFor(
        () => lines.find((line) => line.includes("test refused the write")),
        { message: "the failure's log line" },
      );
      const { err, requestId } = JSON.parse(failed) as {
        err: Record<string, unknown>;
        requestId?: string;
      };
      // The error line names the request, as its closing line does.
      expect(requestId).toBe(response.headers.get("x-request-id"));
      expect(err).toMatchObject({ message: expect.stringContaining("test refused the write") });
      expect(err.stack).toEqual(expect.any(String));
      expect(Object.keys(err).sort()).toEqual(["code", "message", "stack", "type"]);
      expect(failed).not.toContain(acsUser);
    } finally {
      await harness.database.sql.unsafe(
        "drop trigger refuse_links on resources; drop function refuse_links();",
      );
    }
  });
});
