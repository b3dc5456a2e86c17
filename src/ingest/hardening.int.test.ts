import { createHash, randomUUID } from "node:crypto";
import { connect } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { sampleOf, scrape } from "../../test/helpers/metrics.js";
import type { TestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent } from "../../test/helpers/readiness.js";
import { signRawBody } from "../../test/helpers/sign-bytes.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { createLogger } from "../log.js";
import { requestDeletion } from "../readiness/deletion.js";
import { readOneReadiness } from "../readiness/readiness.js";
import { signBody } from "../replay/sign.js";
import { type EventsQueue, jobIdFor } from "./queue.js";

const SECRET = `whsec_${Buffer.from(randomUUID()).toString("base64")}`;
const WORKSPACE = randomUUID();
const OTHER_WORKSPACE = "99999999-9999-4999-8999-999999999999";

/**
 * Issue 14, items 4, 7, 8, 9, 10 and 11 (part), against the whole service as main.ts builds it
 * (ROLE=all, real HTTP on 127.0.0.1, real Postgres and Redis), bound to one workspace.
 */
describe("hostile webhooks", () => {
  // SECRET and WORKSPACE are the file's: the tests sign and bind with them.
  const harness = useHarness({ secret: SECRET }, false);
  let database: TestDatabase;
  let service: Service;
  let queue: EventsQueue;
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];

  /** Events received 91 and 89 days ago, there before the service starts (retention). */
  const aged = { old: randomUUID(), recent: randomUUID() };

  beforeAll(async () => {
    ({ database } = harness());
    queue = harness().queue.queue;
    for (const [id, days] of [
      [aged.old, 91],
      [aged.recent, 89],
    ] as const) {
      const at = new Date(Date.now() - days * 24 * 3600 * 1000).toISOString();
      await database.sql`
        insert into events (event_id, event_type, workspace_id, occurred_at, received_at, source,
                            payload, outcome)
        values (${id}, 'acs_user.created', ${WORKSPACE}, ${at}, ${at}, 'webhook', '{}', 'ignored')`;
    }
    const log = createLogger(
      "debug",
      {},
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    service = await harness().start({
      env: { SEAM_WORKSPACE_ID: WORKSPACE, LOG_LEVEL: "debug" },
      log,
      readyTimeoutMs: 20_000,
    });
  });

  const postBytes = (bytes: Buffer, headers: Record<string, string>) =>
    fetch(`${service.url}/webhooks/seam`, {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/json", ...headers },
    });
  const post = (event: unknown) => {
    const body = JSON.stringify(event);
    return postBytes(Buffer.from(body), signBody(SECRET, body));
  };
  const signedOver = (bytes: Buffer) => signRawBody(SECRET, bytes);
  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { code: string; field?: string } }).error;
  const eventRow = async (eventId: string) => {
    const [row] = await database.sql<{ outcome: string; payload: string }[]>`
      select outcome, payload from events where event_id = ${eventId}`;
    return row;
  };
  const ours = (event: Record<string, unknown>): Record<string, unknown> => ({
    ...event,
    workspace_id: WORKSPACE,
  });

  describe("item 4: a verified event that cannot be stored is a 400 naming the field", () => {
    const base = () => ours(deletionEvent("acs_credential", randomUUID()));
    const cases: [string, Record<string, unknown>, string][] = [
      ["an event_id of 256 characters", { event_id: "e".repeat(256) }, "event_id"],
      ["an event_id of 200,000 characters", { event_id: "e".repeat(200_000) }, "event_id"],
      ["a NUL in event_id", { event_id: `evt\u0000${randomUUID()}` }, "event_id"],
      ["a NUL in workspace_id", { workspace_id: "ws\u0000x" }, "workspace_id"],
      ["a lone surrogate in event_id", { event_id: `evt\ud800${randomUUID()}` }, "event_id"],
      ["an event_type over 255", { event_type: "t".repeat(300) }, "event_type"],
      ["occurred_at in the year 0", { occurred_at: "0000-06-01T00:00:00Z" }, "occurred_at"],
      ["occurred_at in 10000", { occurred_at: "+010000-01-01T00:00:00Z" }, "occurred_at"],
      ["occurred_at on February 30th", { occurred_at: "2026-02-30T00:00:00Z" }, "occurred_at"],
      ["occurred_at in 1999", { occurred_at: "1999-12-31T23:59:59Z" }, "occurred_at"],
      ["occurred_at in 2201", { occurred_at: "2201-01-01T00:00:00Z" }, "occurred_at"],
      ["occurred_at without a zone", { occurred_at: "2026-11-28T10:00:00" }, "occurred_at"],
    ];
    for (const [name, overrides, field] of cases) {
      it(`for ${name}`, async () => {
        const response = await post({ ...base(), ...overrides });
        expect(response.status).toBe(400);
        expect(await errorOf(response)).toMatchObject({ code: "invalid_payload", field });
      });
    }

    it("but 202 for ids of 255 characters and offsets within the years", async () => {
      const id = "e".repeat(255);
      const at = "2200-06-01T00:00:00.123+02:00";
      expect((await post({ ...base(), event_id: id, occurred_at: at })).status).toBe(202);
      // Characters, not UTF-16 units: 255 emoji are 510 units.
      expect((await post({ ...base(), event_id: "😀".repeat(255) })).status).toBe(202);
      const over = await post({ ...base(), event_id: "😀".repeat(256) });
      expect(over.status).toBe(400);
      expect(await errorOf(over)).toMatchObject({ code: "invalid_payload", field: "event_id" });
    });
  });

  describe("item 10: the signature holds over the bytes as received", () => {
    it("passes invalid UTF-8 signed over its bytes, then refuses it as a payload", async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"event_id":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      const response = await postBytes(bytes, signedOver(bytes));
      expect(response.status).toBe(400);
      expect((await errorOf(response)).code).toBe("invalid_payload");
    });

    it("refuses a body sent with a BOM that was signed without one", async () => {
      const body = JSON.stringify(ours(deletionEvent("phone", randomUUID())));
      const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]);
      const response = await postBytes(bom, signBody(SECRET, body));
      expect(response.status).toBe(401);
      // Signed with its BOM, the same bytes pass and decode to the event.
      expect((await postBytes(bom, signedOver(bom))).status).toBe(202);
    });
  });

  describe("item 11: a client that aborts mid-body", () => {
    it("counts as aborted, not a 500, and logs nothing at error level", async () => {
      const { port } = new URL(service.url);
      const body = JSON.stringify(ours(deletionEvent("phone", randomUUID())));
      const socket = connect(Number(port), "127.0.0.1");
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      // With Expect: 100-continue, the interim answer says the route is reading the body.
      const head = [
        "POST /webhooks/seam HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        `Content-Length: ${body.length}`,
        "Expect: 100-continue",
      ].join("\r\n");
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.on("error", () => {});
      socket.write(`${head}\r\n\r\n`);
      await waitFor(() => Buffer.concat(received).toString().includes("100 Continue"));
      socket.write(body.slice(0, 10));
      socket.destroy();
      await waitFor(
        async () =>
          sampleOf(await scrape(service.url), "seam_projector_webhooks_received_total", {
            outcome: "aborted",
          }) === 1,
        { message: "the aborted delivery counted" },
      );
      expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    });
  });

  describe("item 8: SEAM_WORKSPACE_ID", () => {
    it("stores an event of another workspace as ignored and changes nothing", async () => {
      const identity = randomUUID();
      const credential = randomUUID();
      await requestDeletion(database.db, identity, { acs_credential_ids: [credential] });
      const foreign: Record<string, unknown> = {
        ...deletionEvent("acs_credential", credential),
        workspace_id: OTHER_WORKSPACE,
      };
      expect((await post(foreign)).status).toBe(202);
      await waitFor(async () => (await eventRow(String(foreign.event_id)))?.outcome === "ignored", {
        message: "the foreign event recorded as ignored",
      });
      expect((await readOneReadiness(database.db, identity)).ready).toBe(false);

      const own = ours(deletionEvent("acs_credential", credential));
      expect((await post(own)).status).toBe(202);
      await waitFor(async () => (await readOneReadiness(database.db, identity)).ready, {
        message: "the identity ready on its own workspace's event",
      });
    });
  });

  describe("item 7: same event id, different body", () => {
    it("changes nothing, is counted and logged as a conflict", async () => {
      const [first, second] = [randomUUID(), randomUUID()];
      const identity = randomUUID();
      await requestDeletion(database.db, identity, { acs_credential_ids: [second] });
      const event = ours(deletionEvent("acs_credential", first));
      const original = JSON.stringify(event);
      expect((await post(event)).status).toBe(202);
      await waitFor(async () => (await eventRow(String(event.event_id)))?.outcome === "projected");
      const before = sampleOf(await scrape(service.url), "seam_projector_event_conflicts_total");

      // Same id, another credential, while the first job is still kept in the completed set
      // (an hour): another body makes another job, and the projector sees the conflict.
      expect(await queue.getJob(jobIdFor(String(event.event_id), original))).toBeDefined();
      expect((await post({ ...event, acs_credential_id: second })).status).toBe(202);
      await waitFor(
        async () =>
          sampleOf(await scrape(service.url), "seam_projector_event_conflicts_total") ===
          before + 1,
        { message: "the conflict counted" },
      );
      expect(lines.some((line) => line.eventId === event.event_id && line.level === 40)).toBe(true);
      expect((await eventRow(String(event.event_id)))?.payload).toBe(original);
      expect((await readOneReadiness(database.db, identity)).ready).toBe(false);
    });

    it("overwrites a poison row with the body projected when the id is re-driven", async () => {
      const credential = randomUUID();
      const identity = randomUUID();
      await requestDeletion(database.db, identity, { acs_credential_ids: [credential] });
      const valid = ours(deletionEvent("acs_credential", credential));
      const eventId = String(valid.event_id);
      // Passes ingress (the envelope), fails Seam's schema in the worker: poison.
      const { acs_credential_id: _dropped, ...poison } = {
        ...valid,
        acs_credential_id: randomUUID(),
      };
      expect((await post(poison)).status).toBe(202);
      await waitFor(async () => (await eventRow(eventId))?.outcome === "poison");
      // The poison job stays in the failed set: the corrected body is another job.
      const poisonJob = jobIdFor(eventId, JSON.stringify(poison));
      await waitFor(async () => (await queue.getJobState(poisonJob)) === "failed");

      const body = JSON.stringify(valid);
      expect((await postBytes(Buffer.from(body), signBody(SECRET, body))).status).toBe(202);
      await waitFor(async () => (await readOneReadiness(database.db, identity)).ready, {
        message: "the re-driven event projected",
      });
      expect(await eventRow(eventId)).toEqual({ outcome: "projected", payload: body });
      const [hash] = await database.sql`
        select payload_sha256 from events where event_id = ${eventId}`;
      expect(hash?.payload_sha256).toBe(createHash("sha256").update(body).digest("hex"));
    });
  });

  describe("item 9: metric labels and lag from payloads", () => {
    it("counts unknown event types as other, and clamps a lag from the future to 0", async () => {
      const tag = randomUUID().slice(0, 8);
      const unknown = Array.from({ length: 40 }, (_, i) =>
        ours({ ...deletionEvent("phone", randomUUID()), event_type: `made_up_${tag}.${i}` }),
      );
      const future = ours(deletionEvent("phone", randomUUID(), new Date("2190-01-01T00:00:00Z")));
      for (const event of [...unknown, future]) expect((await post(event)).status).toBe(202);
      await waitFor(async () => (await eventRow(String(future.event_id)))?.outcome === "projected");
      await waitFor(
        async () =>
          (await Promise.all(unknown.map((e) => eventRow(String(e.event_id))))).every(Boolean),
        { message: "every unknown event recorded" },
      );
      const text = await scrape(service.url);
      expect(text).not.toContain(`made_up_${tag}`);
      expect(
        sampleOf(text, "seam_projector_events_projected_total", {
          event_type: "other",
          result: "ignored",
        }),
      ).toBeGreaterThanOrEqual(40);
      expect(
        sampleOf(text, "seam_projector_projection_lag_seconds_sum", { since: "occurred" }),
      ).toBeGreaterThanOrEqual(0);
    });
  });

  describe("retention: EVENTS_RETENTION_DAYS, 90 by default", () => {
    it("deletes events received longer ago and keeps the others", async () => {
      await waitFor(async () => (await eventRow(aged.old)) === undefined, {
        message: "the 91-day-old event pruned",
      });
      expect(await eventRow(aged.recent)).toBeDefined();
    });
  });
});
