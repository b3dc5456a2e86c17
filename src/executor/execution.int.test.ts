import { describe, expect, it } from "vitest";
import type { Readiness } from "../../src/shared/readiness.js";
import { followEvents, TEST_TOKEN } from "../../test/helpers/client.js";
import {
  deletesIn,
  GET_ROUTES,
  heldAnswer,
  STEPWISE_ORDER,
  useExecutions,
} from "../../test/helpers/execution.js";
import { sampleOf, scrape } from "../../test/helpers/metrics.js";
import { spawnChild } from "../../test/helpers/process.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/**
 * Executions end to end (CONTRACT §8): the service in-process against real Postgres and Redis,
 * Seam simulated over HTTP (sim/), every deletion reported by a signed webhook
 * the simulator posts to the service, as Seam does.
 */

// Long enough that a webhook late on a loaded CI machine never sends an execution to its
// fallback get (the tests below that say "no get" once failed at 400 ms); the test of the
// fallback sets its own, short enough for a test and long for the events it does get.
const { harness, start, startWithoutSeam, callsQueue } = useExecutions({
  env: { EXECUTION_EVENT_TIMEOUT_MS: "10000" },
});

describe("execute: true", () => {
  it("stepwise: deletes in the guide's order, each step after its events, no get, no events.list", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 });
    const started = await execute(identity.user_identity_id);
    expect(started.status).toBe(201);
    const body = (await started.json()) as Readiness;
    expect(body.deletion?.execution).toMatchObject({
      strategy: "stepwise",
      status: "running",
      step: "client_sessions",
      finished_at: null,
      error: null,
    });
    expect(body.blockers).toHaveLength(6);

    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({ status: "completed", step: null });
    expect(ended.deletion?.status).toBe("ready");
    expect(ended.blockers).toEqual([]);

    const paths = deletesIn(sim).map((r) => r.path);
    // Each route once per resource, and a route never before one of an earlier step.
    expect(paths.filter((p) => p === "/acs/credentials/delete")).toHaveLength(2);
    const ranks = paths.map((p) => STEPWISE_ORDER.indexOf(p));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(paths)).toEqual(new Set(STEPWISE_ORDER));
    // A step starts only once the awaited events of the step before were posted (and
    // projected): the first ACS user delete comes after the last credential's webhook.
    const credentialEvents = sim.posted.filter((p) => p.eventType === "acs_credential.deleted");
    const lastCredentialEvent = Math.max(...credentialEvents.map((p) => p.at.getTime()));
    const firstUserDelete = sim.calls("/acs/users/delete")[0]?.at.getTime() ?? 0;
    expect(firstUserDelete).toBeGreaterThanOrEqual(lastCredentialEvent);
    expect(sim.requests.filter((r) => GET_ROUTES.includes(r.path))).toEqual([]);
    expect(sim.calls("/events/list")).toEqual([]);
    // Counted: the execution's end, its calls by route and outcome, its steps' durations. The
    // end is counted once the commit that completed it has handed over its follow-ups, which
    // may be after the readiness shows it: wait for it, then read the rest.
    const executions = "seam_projector_executions_total";
    const metrics = await waitFor(
      async () => {
        const scraped = await scrape(service.url);
        return sampleOf(scraped, executions, { status: "completed" }) === 1 ? scraped : undefined;
      },
      { message: "the execution's end counted" },
    );
    expect(sampleOf(metrics, executions, { status: "started" })).toBe(1);
    const credentialDeletes = { route: "/acs/credentials/delete", outcome: "ok" };
    expect(sampleOf(metrics, "seam_projector_seam_calls_total", credentialDeletes)).toBe(2);
    const steps = "seam_projector_execution_step_seconds_count";
    expect(sampleOf(metrics, steps, { step: "acs_users" })).toBe(1);
  });

  it("cascade: deletes the identity first and completes on the events of Seam's cascade", async () => {
    const { sim, execute, waitEnded } = await start({ cascade: true });
    const identity = sim.seedIdentity();
    const started = await execute(identity.user_identity_id, { strategy: "cascade" });
    expect(started.status).toBe(201);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({ strategy: "cascade", status: "completed" });
    expect(ended.blockers).toEqual([]);
    expect(deletesIn(sim).map((r) => r.path)).toEqual(["/user_identities/delete"]);
    expect(sim.requests.filter((r) => GET_ROUTES.includes(r.path))).toEqual([]);
  });

  it("a dropped event completes through the fallback: exactly one get, the resource reconciled", async () => {
    const { sim, execute, waitEnded } = await start({}, { EXECUTION_EVENT_TIMEOUT_MS: "1500" });
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1, phones: 0 });
    const [credential] = identity.acs_credential_ids as [string];
    sim.drop(credential);
    await execute(identity.user_identity_id);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    expect(sim.calls("/acs/credentials/get").map((r) => r.params.acs_credential_id)).toEqual([
      credential,
    ]);
    expect(sim.requests.filter((r) => GET_ROUTES.includes(r.path))).toHaveLength(1);
    const [row] = await harness().database.sql<{ source: string; event_type: string }[]>`
      select source, event_type from events where event_id = ${`reconciled-acs_credential-${credential}`}`;
    expect(row).toEqual({ source: "reconciled", event_type: "acs_credential.deleted" });
  });

  it("honours Retry-After on a 429, then goes on", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    // 3 s: longer than the first backoff (1 s), so only Retry-After explains the wait.
    sim.fault("/acs/credentials/delete", { status: 429, retryAfter: "3" });
    await execute(identity.user_identity_id);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    const [refused, accepted] = sim.calls("/acs/credentials/delete");
    expect(accepted).toBeDefined();
    expect((accepted?.at.getTime() ?? 0) - (refused?.at.getTime() ?? 0)).toBeGreaterThanOrEqual(
      3000,
    );
  });

  it("fails on a 401, and a second POST resumes from the failed step", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    sim.fault("/acs/credentials/delete", { status: 401 });
    await execute(identity.user_identity_id);
    const failed = await waitEnded(identity.user_identity_id);
    expect(failed.deletion?.execution).toMatchObject({
      status: "failed",
      step: "acs_credentials",
      error: { code: "seam_api_unauthorized" },
    });
    expect(sim.calls("/acs/users/delete")).toEqual([]);

    const resumed = await execute(identity.user_identity_id);
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as Readiness).deletion?.execution).toMatchObject({
      status: "running",
      step: "acs_credentials",
      error: null,
    });
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    // Nothing of the step before the failure is called again.
    expect(sim.calls("/client_sessions/delete")).toHaveLength(1);
    // A completed execution is answered as it is, with nothing read from Seam.
    const before = sim.requests.length;
    const again = await execute(identity.user_identity_id);
    expect(again.status).toBe(200);
    expect(sim.requests.length).toBe(before);
  });

  it("a cancel mid-way makes no further Seam call", async () => {
    const { sim, service, execute } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    const held = heldAnswer();
    sim.fault("/acs/users/delete", held.fault);
    await execute(identity.user_identity_id);
    await waitFor(() => sim.calls("/acs/users/delete").length === 1, {
      message: "ACS user delete",
    });
    expect((await service.cancelDeletion(identity.user_identity_id)).status).toBe(204);
    held.release();
    const readiness = await service.readiness(identity.user_identity_id);
    expect(readiness.deletion).toBeNull();
    // The held call ends, and whatever it queued after has run.
    await waitFor(
      async () =>
        (await callsQueue().resultOf({ action: "delete", type: "acs_user" })) !== undefined &&
        (await callsQueue().inFlight()) === 0,
      { message: "the held call ended and nothing left to run" },
    );
    // Give the execution every chance to go on: Seam's events for the held delete arrive.
    await sim.settled();
    await waitFor(
      async () =>
        (await service.readiness(identity.user_identity_id)).blockers.every(
          (b) => b.type !== "acs_user",
        ),
      { message: "ACS user deletion projected" },
    );
    // That projection would queue the next step's calls, if the cancel had not stopped the
    // execution: its job ends only once they are queued, and they must have run before "no
    // further call" can be seen.
    await waitFor(
      async () => (await harness().queue.drained()) && (await callsQueue().inFlight()) === 0,
      { message: "the deletion's job done and no Seam call left to run" },
    );
    for (const path of [
      "/user_identities/enrollment_automations/delete",
      "/phones/deactivate",
      "/user_identities/delete",
    ]) {
      expect(sim.calls(path)).toEqual([]);
    }
  });

  it("runs executions of identities that share nothing at once, and follows 100 with waiters and streams", async () => {
    const { sim, service, execute } = await start();
    const identities = Array.from({ length: 100 }, () =>
      sim.seedIdentity({
        acsUsers: 1,
        credentialsPerUser: 1,
        phones: 1,
        clientSessions: 0,
        enrollmentAutomations: 0,
      }),
    );
    const started = await Promise.all(identities.map((i) => execute(i.user_identity_id)));
    expect(started.map((r) => r.status)).toEqual(identities.map(() => 201));
    const ids = identities.map((i) => i.user_identity_id);
    // Half followed by long-polls, half by SSE streams.
    const polls = ids
      .slice(0, 50)
      .map(async (id) => (await service.waitDeletion(id, 60)).json() as Promise<Readiness>);
    const streams = ids.slice(50).map(async (id) => {
      const stream = followEvents(
        await service.call("GET", `/v1/user_identities/${id}/deletion/events`),
      );
      let last: Readiness | undefined;
      for (let next = await stream.next(); next !== undefined; next = await stream.next())
        last = next;
      return last;
    });
    const ends = await Promise.all([...polls, ...streams]);
    expect(ends.map((r) => r?.deletion?.execution?.status)).toEqual(ids.map(() => "completed"));
    // Their steps overlapped: some credential delete came after another identity's ACS user one.
    const paths = deletesIn(sim).map((r) => r.path);
    expect(paths.lastIndexOf("/acs/credentials/delete")).toBeGreaterThan(
      paths.indexOf("/acs/users/delete"),
    );
    for (const identity of identities) {
      expect(sim.deleteCalls(identity.acs_credential_ids[0] as string)).toBe(1);
    }
  });
});

describe("npm run cli -- delete-identity", () => {
  const runCli = (url: string, ...args: string[]) => {
    const cli = spawnChild(process.execPath, [
      "--import",
      "tsx",
      "src/cli.ts",
      "delete-identity",
      ...args,
      "--url",
      url,
      "--token",
      TEST_TOKEN,
    ]);
    return cli.exited.then((code) => ({ code, output: cli.output() }));
  };

  it("shows the execution step by step and exits 0 once it completed", async () => {
    const { sim, service } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    const { code, output } = await runCli(service.url, identity.user_identity_id);
    expect(output).toMatch(
      /requested: running stepwise, step client_sessions, .*acs_credential: 1/,
    );
    expect(output).toMatch(/running stepwise, step acs_users, .*acs_user: 1/);
    expect(output).toMatch(/completed: the user identity is deleted in Seam/);
    expect(code).toBe(0);
    expect((await service.readiness(identity.user_identity_id)).deletion?.execution?.status).toBe(
      "completed",
    );
  });

  it("exits 1 when the execution fails, saying why", async () => {
    const { sim, service } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    sim.fault("/acs/credentials/delete", { status: 403 });
    const { code, output } = await runCli(
      service.url,
      identity.user_identity_id,
      "--strategy",
      "stepwise",
    );
    expect(output).toMatch(/failed in step acs_credentials: seam_api_unauthorized/);
    expect(code).toBe(1);
  });

  it("--no-wait returns once the execution started", async () => {
    const { sim, service } = await start();
    const identity = sim.seedIdentity();
    const { code, output } = await runCli(service.url, identity.user_identity_id, "--no-wait");
    expect(code).toBe(0);
    expect(output).toMatch(/requested: running stepwise/);
    expect(output).not.toMatch(/completed/);
  });
});

describe("execute: bad requests", () => {
  it("is a 400 naming the field: no SEAM_API_KEY, a bad strategy, a strategy without execute", async () => {
    const service = await startWithoutSeam();
    const id = "5b0c8a1e-3f7e-4d55-a1c2-6f5b8c2d9e10";
    const path = `/v1/user_identities/${id}/deletion`;
    const cases = [
      [{ execute: true }, "execute"],
      [{ execute: true, strategy: "fast" }, "strategy"],
      [{ strategy: "cascade" }, "strategy"],
    ] as const;
    for (const [body, field] of cases) {
      const response = await service.call("POST", path, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_request", field } });
    }
  });
});
