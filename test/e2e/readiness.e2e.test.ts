import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sql } from "../../src/db/client.js";
import { type ProcessService, useHarness } from "../helpers/harness.js";
import { adminSql, type TestDatabase } from "../helpers/postgres.js";
import { deletionEvent, followEvents, type Readiness, TEST_TOKEN } from "../helpers/readiness.js";
import { waitFor } from "../helpers/wait-for.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A long-poll over node:http, so the test knows when the request has left (`sent`): a waiter
 * cannot be registered before its request is written.
 */
const longPoll = (url: string, identity: string, wait: number) => {
  let markSent = () => {};
  const sent = new Promise<void>((resolve) => {
    markSent = resolve;
  });
  const response = new Promise<{ status: number; body: Readiness }>((resolve, reject) => {
    const req = request(
      `${url}/v1/user_identities/${identity}/deletion?wait=${wait}`,
      { headers: { authorization: `Bearer ${TEST_TOKEN}` }, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("finish", markSent);
    req.end();
  });
  return { sent, response };
};

/** Two API processes and one worker process on one Postgres and one Redis (CONTRACT §2). */
describe("two API processes and a worker process", () => {
  const harness = useHarness({}, false);
  let database: TestDatabase;
  let admin: Sql;
  const services: ProcessService[] = [];
  let api1: ProcessService;
  let api2: ProcessService;

  beforeAll(async () => {
    database = harness().database;
    admin = adminSql();
    const start = (role: "api" | "worker") =>
      harness().spawn({ role, env: { WORKER_CONCURRENCY: "16", LOG_LEVEL: "warn" } });
    services.push(...(await Promise.all([start("api"), start("api"), start("worker")])));
    [api1, api2] = services as [ProcessService, ProcessService];
  }, 60_000);

  afterAll(async () => {
    // The harness then stops each process by its pid: SIGTERM, then SIGKILL after the grace.
    await admin?.end();
  });

  it("serves /readyz with the listener check only in API processes", async () => {
    const [a, b, worker] = await Promise.all(
      services.map(
        async (s) => (await (await fetch(`${s.url}/readyz`)).json()) as { checks: object },
      ),
    );
    expect(a?.checks).toMatchObject({ postgres: "ok", redis: "ok", listener: "ok" });
    expect(b?.checks).toMatchObject({ listener: "ok" });
    expect(worker?.checks).not.toHaveProperty("listener");
    const workerApi = await fetch(
      `${services[2]?.url}/v1/user_identities/${randomUUID()}/readiness`,
      {
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
      },
    );
    expect(workerApi.status).toBe(404);
  });

  it("wakes a waiter on API 1 with an event sent to API 2, and a cancel on API 2 answers API 1", async () => {
    const identity = randomUUID();
    const phone = randomUUID();
    expect((await api2.requestDeletion(identity, { phone_ids: [phone] })).status).toBe(201);
    // An SSE stream's first event is sent once its waiter is registered and has read: from
    // then on only a notification can bring the next one.
    const stream = followEvents(
      await api1.call("GET", `/v1/user_identities/${identity}/deletion/events`),
    );
    expect((await stream.next())?.deletion?.status).toBe("pending");
    const accepted = await api2.sendEvent(deletionEvent("phone", phone));
    expect(accepted.status).toBe(202);
    const acceptedAt = performance.now();
    expect(await stream.next()).toMatchObject({
      user_identity_id: identity,
      ready: true,
      deletion: { status: "ready" },
    });
    expect(performance.now() - acceptedAt).toBeLessThan(1000);
    expect(await stream.next()).toBeUndefined();

    const other = randomUUID();
    await api1.requestDeletion(other, { acs_user_ids: [randomUUID()] });
    const cancelled = followEvents(
      await api1.call("GET", `/v1/user_identities/${other}/deletion/events`),
    );
    expect((await cancelled.next())?.deletion?.status).toBe("pending");
    expect((await api2.cancelDeletion(other)).status).toBe(204);
    expect(await cancelled.next()).toMatchObject({ user_identity_id: other, deletion: null });
    expect(await cancelled.next()).toBeUndefined();
  });

  it("ends every round ready when the deletion request and the last deletion event race (200 rounds)", async () => {
    const round = async (index: number) => {
      const identity = randomUUID();
      const [first, last] = [randomUUID(), randomUUID()];
      await api1.link(identity, { acs_credential_ids: [first, last] });
      expect((await api2.sendEvent(deletionEvent("acs_credential", first))).status).toBe(202);
      await waitFor(async () => (await api1.readiness(identity)).blockers.length === 1);
      // Same instant, then the request a little later each round: the event needs a queue hop
      // before it commits, so the offsets sweep the commits across each other.
      const offset = (index % 10) * 2;
      const [requested, accepted] = await Promise.all([
        sleep(offset).then(() => api1.requestDeletion(identity)),
        api2.sendEvent(deletionEvent("acs_credential", last)),
      ]);
      expect(requested.status).toBe(201);
      expect(accepted.status).toBe(202);
      // A round that the race left pending would answer after 5 s with ready false.
      const answer = await api2.waitDeletion(identity, 5);
      return (await answer.json()) as Readiness;
    };
    const outcomes: Readiness[] = [];
    for (let wave = 0; wave < 20; wave += 1) {
      outcomes.push(
        ...(await Promise.all(Array.from({ length: 10 }, (_, i) => round(wave * 10 + i)))),
      );
    }
    const notReady = outcomes.filter((r) => !(r.ready && r.deletion?.status === "ready"));
    expect(notReady).toEqual([]);
    expect(outcomes).toHaveLength(200);
    const [row] = (await database.sql`
      select count(*)::int as pending from pending_deletions where status <> 'ready'`) as unknown as [
      { pending: number },
    ];
    expect(row?.pending).toBe(0);
  }, 180_000);

  it("runs no statement in Postgres while 100 waiters wait 5 s with no events", async () => {
    const identities = Array.from({ length: 100 }, () => ({
      identity: randomUUID(),
      phone: randomUUID(),
    }));
    await database.sql`
      with seeded as (
        insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
        select 'phone', p, 'unknown', i, now()
        from unnest(${identities.map((x) => x.identity)}::uuid[], ${identities.map((x) => x.phone)}::uuid[]) as t(i, p)
        returning user_identity_id)
      insert into pending_deletions (user_identity_id, status) select user_identity_id, 'pending' from seeded`;
    const polls = identities.map(({ identity }, i) =>
      longPoll((i % 2 === 0 ? services[0] : services[1])?.url ?? "", identity, 60),
    );
    await Promise.all(polls.map((poll) => poll.sent));
    // Every backend of the test database idle, and none busy for a while: the waiters' first
    // reads are done. pg_stat_activity is updated as each statement starts, unlike
    // pg_stat_database's counters, which PG 15 flushes up to 10 s late.
    const activity = () => admin<
      { pid: number; state: string | null; query_start: Date | null; backend_start: Date }[]
    >`
      select pid, state, query_start, backend_start from pg_stat_activity where datname = ${database.name}`;
    await waitFor(
      async () => {
        const [{ now }] = (await admin`select now() as now`) as unknown as [{ now: Date }];
        const rows = await activity();
        return rows.every(
          (row) =>
            row.state !== "active" && (row.query_start?.getTime() ?? 0) < now.getTime() - 500,
        );
      },
      { message: "first reads done", timeoutMs: 20_000 },
    );
    const [{ start }] = (await admin`select now() as start`) as unknown as [{ start: Date }];
    const before = await activity();
    expect(before.length).toBeGreaterThan(0);

    await sleep(5000); // the subject of the test: five quiet seconds

    const after = await activity();
    const busy = after.filter(
      (row) => (row.query_start !== null && row.query_start >= start) || row.backend_start >= start,
    );
    expect(busy).toEqual([]);
    // A backend that ran a statement and then went away would hide it; none did.
    expect(after.map((row) => row.pid).sort()).toEqual(before.map((row) => row.pid).sort());

    let answered = 0;
    for (const poll of polls) void poll.response.then(() => (answered += 1));
    await sleep(0);
    expect(answered).toBe(0);
    await Promise.all(identities.map(({ identity }) => api2.cancelDeletion(identity)));
    const answers = await Promise.all(polls.map((poll) => poll.response));
    expect(answers.every((a) => a.status === 200 && a.body.deletion === null)).toBe(true);
  }, 60_000);

  it("on SIGTERM, answers its waiters with their current state and exits 0", async () => {
    const identity = randomUUID();
    const phone = randomUUID();
    await api2.requestDeletion(identity, { phone_ids: [phone] });
    const waiting = longPoll(api1.url, identity, 60);
    await waiting.sent;
    // Registered or not yet, the request is in: either way it gets the current state.
    api1.process.child.kill("SIGTERM");
    const { status, body } = await waiting.response;
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ready: false,
      blockers: [{ type: "phone", id: phone }],
      deletion: { status: "pending" },
    });
    expect(await api1.process.exited).toBe(0);
  });
});
