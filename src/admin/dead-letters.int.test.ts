import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { useHarness } from "../../test/helpers/harness.js";
import type { TestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent, replayJob } from "../../test/helpers/readiness.js";
import { addEvents, type EventsQueue, jobIdFor } from "../ingest/queue.js";
import { applyBatch } from "../projector/apply.js";
import { classifyJob } from "../projector/classify.js";
import { createDeadLetters } from "./dead-letters.js";

/**
 * A dead letter is poison when the projector recorded its event as poison in Postgres, whatever
 * its job's failure text says: here the poison event's job fails with a plain reason, and a
 * sound event's job fails with a reason that reads like the projector's poison message.
 */
describe("dead letters' poison", () => {
  // A database and a queue of this file's own, and no service: the test plays the worker.
  const harness = useHarness({}, false);
  let database: TestDatabase;
  let queue: EventsQueue;
  beforeAll(() => {
    ({ database } = harness());
    queue = harness().queue.queue;
  });

  it("is read from the event log, not from the failure reason", async () => {
    // Schema-invalid: acs_user.deleted without its acs_user_id.
    const poison = replayJob({
      ...deletionEvent("acs_user", randomUUID()),
      acs_user_id: undefined,
    });
    const sound = replayJob(deletionEvent("phone", randomUUID()));
    // The projector's own transaction records the poison event's verdict.
    expect(
      (await applyBatch(database.db, [classifyJob(poison)])).results.map((r) => r.kind),
    ).toEqual(["poison"]);

    await addEvents(queue, [poison, sound]);
    const reasons: Record<string, string> = {
      [poison.eventId]: "retries exhausted",
      [sound.eventId]: "poison event: a look-alike reason",
    };
    await harness().queue.failJobs(2, (job) => reasons[job.data.eventId] ?? "");

    const deadLetters = createDeadLetters(queue, database.db);
    const { total, items } = await deadLetters.list(10, 0);
    expect(total).toBe(2);
    expect(
      Object.fromEntries(items.map((item) => [item.event_id, [item.reason, item.poison]])),
    ).toEqual({
      [poison.eventId]: ["retries exhausted", true],
      [sound.eventId]: ["poison event: a look-alike reason", false],
    });
    const detail = await deadLetters.inspect(jobIdFor(poison.eventId, poison.body));
    expect(detail).toMatchObject({ event_id: poison.eventId, poison: true });
    expect((await deadLetters.inspect(jobIdFor(sound.eventId, sound.body)))?.poison).toBe(false);
  });
});
