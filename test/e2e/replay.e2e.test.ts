import { describe, expect, onTestFinished, test } from "vitest";
import { replay } from "../../src/replay/replay.js";
import { startHarness } from "../helpers/harness.js";
import { countEvents, expectProjectionOf, readProjection } from "../helpers/projection.js";
import { loadFixture, uniqueEventCount } from "../helpers/queue.js";
import { waitFor } from "../helpers/wait-for.js";

/** A whole service (ROLE=all) on its own database and queue prefix, torn down after the test. */
const startProjection = async () => {
  const harness = await startHarness();
  onTestFinished(harness.close);
  return harness;
};

describe("replaying a fixture through HTTP, the queue and the worker", () => {
  test("in order, once: every resource deleted by its deletion event, every event stored", async () => {
    const { database, service, queue, secret } = await startProjection();
    const fixture = await loadFixture("identities.jsonl");

    const summary = await replay(fixture, { url: service.webhookUrl, secret });

    expect(summary).toMatchObject({
      total: fixture.length,
      accepted: fixture.length,
      failed: 0,
      skipped: 0,
    });
    await waitFor(async () => (await countEvents(database.sql)) === fixture.length, {
      timeoutMs: 20_000,
      message: "every event projected",
    });
    await waitFor(async () => (await queue.counts()).completed === fixture.length, {
      message: "every job completed",
    });
    await expectProjectionOf(database.sql, fixture);
    expect(await queue.counts()).toMatchObject({ failed: 0, active: 0, waiting: 0, delayed: 0 });
  });

  test("shuffled, each event three times: the same state, each event stored once", async () => {
    const { database, service, queue, secret } = await startProjection();
    const fixture = await loadFixture("identities.jsonl");
    const unique = uniqueEventCount(fixture);
    const seen: number[] = [];

    const summary = await replay(fixture, {
      url: service.webhookUrl,
      secret,
      shuffle: true,
      duplicate: 3,
      concurrency: 16,
      onProgress: (progress) => seen.push(progress.accepted),
    });

    expect(summary).toMatchObject({ total: unique * 3, accepted: unique * 3, failed: 0 });
    expect(seen.at(-1)).toBe(unique * 3);
    await waitFor(
      async () => {
        const counts = await queue.counts();
        return counts.active + counts.waiting + counts.delayed === 0 && counts.completed > 0;
      },
      { timeoutMs: 20_000, message: "queue drained" },
    );
    await expectProjectionOf(database.sql, fixture);
    expect((await readProjection(database.sql)).events).toHaveLength(unique);
    expect((await queue.counts()).failed).toBe(0);
  });
});
