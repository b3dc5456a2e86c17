import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { beforeUpdate, failDeletionWrite, useTestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent, replayJob } from "../../test/helpers/readiness.js";
import { isConnectionError } from "../db/client.js";
import { requestDeletion, startExecution } from "../readiness/deletion.js";
import { readOneReadiness } from "../readiness/readiness.js";
import { applyBatch } from "./apply.js";
import { classifyJob } from "./classify.js";

/**
 * applyBatch on its own, against Postgres: the transaction is sent in two flights, the second
 * with COMMIT behind the writes, so a write that fails must still fail the batch (Postgres
 * answers COMMIT of a failed transaction with a silent ROLLBACK) and leave nothing behind.
 */
describe("applyBatch", () => {
  const testDatabase = useTestDatabase();

  const classified = (event: Record<string, unknown>) => classifyJob(replayJob(event));

  const eventCount = async (ids: string[]) => {
    const [row] = await testDatabase().sql<{ count: number }[]>`
      select count(*)::int as count from events where event_id = any(${ids})`;
    return row?.count;
  };

  it("projects a batch in one commit and tells duplicates apart", async () => {
    const identity = randomUUID();
    const phones = [randomUUID(), randomUUID()];
    await requestDeletion(testDatabase().db, identity, { phone_ids: phones });
    const events = phones.map((id) => deletionEvent("phone", id));
    const batch = [...events, events[0] as Record<string, unknown>].map(classified);

    expect((await applyBatch(testDatabase().db, batch)).results.map((r) => r.kind)).toEqual([
      "projected",
      "projected",
      "duplicate",
    ]);
    const readiness = await readOneReadiness(testDatabase().db, identity);
    expect(readiness).toMatchObject({ ready: true, deletion: { status: "ready" } });
    // Again, as a redelivery after a crash: all duplicates, nothing changes.
    expect((await applyBatch(testDatabase().db, batch)).results.map((r) => r.kind)).toEqual([
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
  });

  it("stores a poison event whose schema error quotes a key with a lone surrogate", async () => {
    // The body is well-formed JSON text (the surrogate is an escape); parsed, the key is not
    // UTF-16 that UTF-8 can hold, and the schema error names it.
    const event = {
      ...deletionEvent("phone", randomUUID()),
      device_custom_metadata: { "\ud800": {} },
    };
    const item = classified(event);
    expect(item).toMatchObject({ kind: "poison", error: expect.stringContaining("\ud800") });
    expect((await applyBatch(testDatabase().db, [item])).results[0]?.kind).toBe("poison");
    const [row] = await testDatabase().sql<{ outcome: string; error: string }[]>`
      select outcome, error from events where event_id = ${String(event.event_id)}`;
    expect(row?.outcome).toBe("poison");
    expect(row?.error).toContain("\ufffd");
  });

  it("fails the whole batch, and commits nothing, when a write of the second flight fails", async () => {
    const identity = randomUUID();
    const phones = [randomUUID(), randomUUID()];
    await requestDeletion(testDatabase().db, identity, { phone_ids: phones });
    // Only the resource update (second flight) fails: the event record and row locks succeed.
    const undo = await failDeletionWrite(testDatabase().sql, phones[1] as string, "raise");
    const events = phones.map((id) => deletionEvent("phone", id));
    try {
      await expect(applyBatch(testDatabase().db, events.map(classified))).rejects.toThrow(
        /test refused the write/,
      );
    } finally {
      await undo();
    }
    expect(await eventCount(events.map((e) => String(e.event_id)))).toBe(0);
    const readiness = await readOneReadiness(testDatabase().db, identity);
    expect(readiness.blockers).toHaveLength(2);
    expect(readiness.deletion?.status).toBe("pending");

    // The retry, once the fault is gone, projects both: they were not recorded as seen.
    expect(
      (await applyBatch(testDatabase().db, events.map(classified))).results.map((r) => r.kind),
    ).toEqual(["projected", "projected"]);
    expect((await readOneReadiness(testDatabase().db, identity)).ready).toBe(true);
  });

  // A hang here (a write never sent, awaited for ever) ends at the test's timeout.
  it("fails with a connection error when the connection dies in the second flight", async () => {
    const identity = randomUUID();
    const phone = randomUUID();
    await requestDeletion(testDatabase().db, identity, { phone_ids: [phone] });
    const undo = await failDeletionWrite(testDatabase().sql, phone, "terminate");
    const event = deletionEvent("phone", phone);
    try {
      await expect(applyBatch(testDatabase().db, [classified(event)])).rejects.toSatisfy(
        isConnectionError,
      );
    } finally {
      await undo();
    }
    expect(await eventCount([String(event.event_id)])).toBe(0);
    expect((await readOneReadiness(testDatabase().db, identity)).ready).toBe(false);
  });
  // With SEAM_API_KEY, the batch advances executions in its transaction: a plan write that
  // fails must fail the batch and leave the event unrecorded, so that its retry advances them.
  it("fails the batch, and commits nothing, when an execution's plan write fails", async () => {
    const identity = randomUUID();
    const phone = randomUUID();
    const advance = { eventTimeoutMs: 60_000 };
    await startExecution(testDatabase().db, identity, { phone_ids: [phone] }, "stepwise", advance);
    const undo = await beforeUpdate(
      testDatabase().sql,
      "executions",
      "raise exception 'test refused the plan write';",
    );
    const event = deletionEvent("phone", phone);
    try {
      await expect(applyBatch(testDatabase().db, [classified(event)], { advance })).rejects.toThrow(
        /test refused the plan write/,
      );
    } finally {
      await undo();
    }
    expect(await eventCount([String(event.event_id)])).toBe(0);
    expect((await readOneReadiness(testDatabase().db, identity)).deletion?.execution?.step).toBe(
      "phones",
    );
    // Once the fault is gone, the same event moves the execution on.
    const retried = await applyBatch(testDatabase().db, [classified(event)], { advance });
    expect(retried.results.map((r) => r.kind)).toEqual(["projected"]);
    expect(retried.followUps[0]?.step).toBe("user_identity");
  });
});
