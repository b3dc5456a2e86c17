import { describe, expect, it } from "vitest";
import type { Readiness } from "../../src/shared/readiness.js";
import { executionSteps } from "../../src/shared/resources.js";
import { followEvents } from "../../test/helpers/client.js";
import {
  deletesIn,
  getsIn,
  heldAnswer,
  LIST_ROUTES,
  ONLY,
  resourceIdsOf,
  STEPWISE_ORDER,
  useExecutions,
} from "../../test/helpers/execution.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/**
 * What a client sees of an execution (CONTRACT §5, §8; issue 15): POST `execute: true` on a
 * deletion in each state, two at once, SEAM_API_CONCURRENCY, the SSE stream and the long-poll,
 * and a cancel while a timeout check is scheduled.
 */

const { harness, start, callsQueue } = useExecutions({
  env: { EXECUTION_EVENT_TIMEOUT_MS: "400" },
});

const listsIn = (requests: { path: string }[]) =>
  requests.filter((r) => LIST_ROUTES.includes(r.path)).length;

/** The most requests in flight at once, each taken as in flight from its arrival for `ms`. */
const mostInFlight = (requests: { at: Date }[], ms: number) => {
  const edges = requests.flatMap((r) => [
    { at: r.at.getTime(), delta: 1 },
    { at: r.at.getTime() + ms, delta: -1 },
  ]);
  // An end before a start at the same instant: half-open intervals.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.delta;
    most = Math.max(most, now);
  }
  return most;
};

describe("POST execute: true", () => {
  it("on a pending deletion without an execution: 200, discovers, starts; on a running one: 200, reads nothing from Seam", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, clientSessions: 1, phones: 1 });
    const id = identity.user_identity_id;
    const requested = await service.requestDeletion(id, {
      client_session_ids: identity.client_session_ids,
    });
    expect(requested.status).toBe(201);
    expect(sim.requests).toEqual([]);

    const phone = heldAnswer();
    sim.fault("/phones/deactivate", phone.fault);
    const started = await execute(id);
    expect(started.status).toBe(200);
    const body = (await started.json()) as Readiness;
    expect(body.deletion?.execution).toMatchObject({ status: "running", strategy: "stepwise" });
    // Discovery ran: the phone the request did not name is linked and blocks.
    expect(listsIn(sim.requests)).toBe(LIST_ROUTES.length);
    expect(body.blockers).toContainEqual({ type: "phone", id: identity.phone_ids[0] });

    await waitFor(() => sim.calls("/phones/deactivate").length === 1, { message: "phone call" });
    const before = sim.requests.length;
    const again = await execute(id);
    expect(again.status).toBe(200);
    const running = (await again.json()) as Readiness;
    expect(running.deletion?.execution).toMatchObject({
      status: "running",
      step: "phones",
      started_at: body.deletion?.execution?.started_at,
    });
    expect(sim.requests.length).toBe(before);
    phone.release();
    const ended = await waitEnded(id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    expect(sim.deleteCalls(identity.phone_ids[0] as string)).toBe(1);
  });

  it("discovery refused by Seam: 502 seam_api_rejected, nothing recorded, nothing deleted", async () => {
    const { sim, service, execute } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    sim.fault("/phones/list", { status: 400 });
    const refused = await execute(identity.user_identity_id);
    expect(refused.status).toBe(502);
    expect(await refused.json()).toMatchObject({ error: { code: "seam_api_rejected" } });
    expect((await service.readiness(identity.user_identity_id)).deletion).toBeNull();
    expect(deletesIn(sim)).toEqual([]);
  });

  it("two at once for one identity: one execution, each resource deleted once", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 });
    const id = identity.user_identity_id;
    const answers = await Promise.all([execute(id), execute(id)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Readiness[];
    const [first, second] = bodies.map((b) => b.deletion?.execution?.started_at);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    const ended = await waitEnded(id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    const ids = resourceIdsOf(identity);
    expect(ids.map((resource) => sim.deleteCalls(resource))).toEqual(ids.map(() => 1));
  });

  it("SEAM_API_CONCURRENCY=2 with 10 executions: never more than 2 Seam calls in flight", async () => {
    const { sim, execute, waitEnded } = await start({}, { SEAM_API_CONCURRENCY: "2" });
    const identities = Array.from({ length: 10 }, () =>
      sim.seedIdentity({ ...ONLY, clientSessions: 1 }),
    );
    const delayMs = 150;
    for (const path of ["/client_sessions/delete", "/user_identities/delete"]) {
      sim.fault(path, ...identities.map(() => ({ delayMs })));
    }
    const started = await Promise.all(identities.map((i) => execute(i.user_identity_id)));
    expect(started.map((r) => r.status)).toEqual(identities.map(() => 201));
    for (const identity of identities) {
      expect((await waitEnded(identity.user_identity_id)).deletion?.execution?.status).toBe(
        "completed",
      );
    }
    const calls = deletesIn(sim);
    expect(calls).toHaveLength(20);
    // Each answer took at least delayMs: a third call arriving within that window of two
    // others was in flight beside them.
    expect(mostInFlight(calls, delayMs)).toBe(2);
  });
});

describe("following an execution", () => {
  it("the SSE stream shows each step in order and ends after completion", async () => {
    const { sim, service, execute } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    const id = identity.user_identity_id;
    // Each step's deletes are held until the stream has shown that step, so every state is read
    // before the next one is made: a stream shows states, not every write, and no delay of the
    // simulator's decides which ones it shows.
    const holds = STEPWISE_ORDER.map((path) => {
      const held = heldAnswer();
      sim.fault(path, held.fault);
      return held;
    });
    await execute(id);
    const stream = followEvents(
      await service.call("GET", `/v1/user_identities/${id}/deletion/events`),
    );
    const seen: Readiness[] = [];
    for (let next = await stream.next(); next !== undefined; next = await stream.next()) {
      seen.push(next);
      const step = next.deletion?.execution?.step;
      if (step) holds[executionSteps.indexOf(step)]?.release();
    }
    const steps = seen.map((r) => r.deletion?.execution?.step);
    const changes = steps.filter((step, i) => i === 0 || step !== steps[i - 1]);
    expect(changes).toEqual([...executionSteps, null]);
    expect(seen.at(-1)?.deletion?.execution?.status).toBe("completed");
  });

  it("a long-poll answers once the execution ended, not when the deletion turned ready before the identity delete", async () => {
    const { sim, service, execute } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    const id = identity.user_identity_id;
    const last = heldAnswer();
    sim.fault("/user_identities/delete", last.fault);
    await execute(id);
    let answered = false;
    const poll = service.waitDeletion(id, 30).then(async (response) => {
      answered = true;
      return { status: response.status, body: (await response.json()) as Readiness };
    });
    await waitFor(() => sim.calls("/user_identities/delete").length === 1, {
      message: "the identity's delete",
    });
    const ready = await service.readiness(id);
    expect(ready.deletion).toMatchObject({ status: "ready", execution: { step: "user_identity" } });
    expect(answered).toBe(false);
    last.release();
    const { status, body } = await poll;
    expect(status).toBe(200);
    expect(body.deletion?.execution).toMatchObject({ status: "completed", step: null });
  });

  it("a long-poll answers once the execution failed", async () => {
    const { sim, service, execute } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    sim.fault("/phones/deactivate", { status: 422 });
    await execute(identity.user_identity_id);
    const response = await service.waitDeletion(identity.user_identity_id, 30);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Readiness).deletion?.execution).toMatchObject({
      status: "failed",
      step: "phones",
      error: { code: "seam_api_rejected" },
    });
  });
});

describe("cancel", () => {
  it("while a timeout check is scheduled: no get afterwards; a later POST starts afresh from discovery", async () => {
    const { sim, service, execute, waitEnded } = await start(
      {},
      { EXECUTION_EVENT_TIMEOUT_MS: "1000" },
    );
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    const id = identity.user_identity_id;
    const [phone] = identity.phone_ids as [string];
    sim.drop(phone);
    const first = (await (await execute(id)).json()) as Readiness;
    const sql = harness().database.sql;
    await waitFor(
      async () =>
        (
          await sql`select 1 from execution_calls
                    where resource_id = ${phone}::uuid and state = 'awaiting'`
        ).length === 1,
      { message: "the phone's event awaited" },
    );
    expect((await service.cancelDeletion(id)).status).toBe(204);
    // The check job runs at its deadline and finds nothing to do.
    const result = await waitFor(
      () => callsQueue().resultOf({ action: "check", type: "phone", id: phone }),
      { message: "the check job ran" },
    );
    expect(result).toBe("stale");
    expect(getsIn(sim)).toEqual([]);

    const listsBefore = listsIn(sim.requests);
    const again = await execute(id);
    expect(again.status).toBe(201);
    const restarted = (await again.json()) as Readiness;
    expect(listsIn(sim.requests)).toBe(listsBefore + LIST_ROUTES.length);
    expect(Date.parse(restarted.deletion?.execution?.started_at ?? "")).toBeGreaterThan(
      Date.parse(first.deletion?.execution?.started_at ?? ""),
    );
    const ended = await waitEnded(id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    // Still linked (its event was dropped), so called again: Seam's 404 reconciles it.
    expect(sim.deleteCalls(phone)).toBe(2);
    expect(getsIn(sim)).toEqual([]);
  });
});
