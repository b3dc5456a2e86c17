import { randomUUID } from "node:crypto";
import { expect, test } from "vitest";
import { parseFixture } from "../../src/replay/fixture.js";
import { replay } from "../../src/replay/replay.js";
import { useHarness } from "../helpers/harness.js";
import { waitFor } from "../helpers/wait-for.js";

const harness = useHarness();

test("a projected event that fails its Seam schema is kept, failed for good, and not retried", async () => {
  const { database, service, queue, secret } = harness();
  const at = new Date().toISOString();
  const common = { workspace_id: randomUUID(), created_at: at, occurred_at: at };
  const poison = {
    event_id: randomUUID(),
    event_type: "acs_user.deleted",
    acs_system_id: randomUUID(),
    ...common,
  };
  const healthy = {
    event_id: randomUUID(),
    event_type: "client_session.deleted",
    client_session_id: randomUUID(),
    ...common,
  };
  const fixture = parseFixture([poison, healthy].map((event) => JSON.stringify(event)).join("\n"));

  const summary = await replay(fixture, { url: service.webhookUrl, secret });
  // Ingress checks only the envelope: the event is accepted, stored, and judged by the worker.
  expect(summary).toMatchObject({ accepted: 2, failed: 0 });

  const failed = await waitFor(
    async () => {
      const jobs = await queue.queue.getFailed();
      return jobs.length > 0 ? jobs : undefined;
    },
    { message: "poison job in the failed set" },
  );
  expect(failed).toHaveLength(1);
  const [job] = failed;
  expect(job?.data.eventId).toBe(poison.event_id);
  expect(job?.failedReason).toMatch(/poison event: .*acs_user_id/);
  expect(job?.attemptsMade).toBe(1);
  expect(await queue.queue.getJobState(job?.id ?? "")).toBe("failed");

  const rows = await waitFor(async () => {
    const found = await database.sql<{ event_id: string; outcome: string; error: string | null }[]>`
      select event_id, outcome, error from events order by outcome`;
    return found.length === 2 ? found : undefined;
  });
  expect(rows.map((row) => [row.event_id, row.outcome])).toEqual([
    [poison.event_id, "poison"],
    [healthy.event_id, "projected"],
  ]);
  expect(rows[0]?.error).toMatch(/acs_user_id/);
  expect((await queue.counts()).delayed).toBe(0);
});
