import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createHarness } from "../../test/helpers/harness.js";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent, followEvents, readEvents } from "../../test/helpers/readiness.js";
import { dropPrefix, testPrefix } from "../../test/helpers/redis.js";
import { proxyUrl } from "../../test/helpers/tcp-proxy.js";
import { waitFor } from "../../test/helpers/wait-for.js";

describe("waiters across a lost connection and a shutdown", () => {
  let database: TestDatabase;
  const prefix = testPrefix();
  afterAll(async () => {
    await database?.drop();
    await dropPrefix(prefix);
  });

  it("re-checks every waiter after the listener reconnects, so a notification lost meanwhile still wakes them", async () => {
    database = await createTestDatabase({ max: 2 });
    const { proxy, url: viaProxy } = await proxyUrl(database.url);
    // The API process reaches Postgres through the proxy; the worker goes straight to it.
    const apiSide = await createHarness({ database, databaseUrl: viaProxy, prefix });
    const workerSide = await createHarness({ database, prefix, secret: apiSide.secret });
    try {
      const api = await apiSide.start({ role: "api" });
      await workerSide.start({ role: "worker" });
      const identity = randomUUID();
      const phone = randomUUID();
      await api.requestDeletion(identity, { phone_ids: [phone] });
      // An SSE stream, so the test knows when the waiter has read its first state: cutting
      // the connection before that read would fail the read, not test the re-check.
      const stream = await api.call("GET", `/v1/user_identities/${identity}/deletion/events`);
      const events = followEvents(stream);
      expect(await events.next()).toMatchObject({ ready: false });
      let answered = false;
      // Without the re-check, no second event would come until the stream is closed.
      const waiting = events.next().then((readiness) => {
        answered = true;
        return readiness;
      });
      await proxy.cut();
      // Ingress needs only Redis; the worker projects and NOTIFYs while nobody listens.
      expect((await api.sendEvent(deletionEvent("phone", phone))).status).toBe(202);
      await waitFor(
        async () => {
          const rows = await database.sql`
          select 1 from pending_deletions where user_identity_id = ${identity} and status = 'ready'`;
          return rows.length === 1;
        },
        { message: "projected while the listener was cut off" },
      );
      expect(answered).toBe(false);
      await proxy.restore();
      const readiness = await waiting;
      expect(readiness).toMatchObject({ ready: true, deletion: { status: "ready" } });
    } finally {
      await apiSide.close();
      await workerSide.close();
      await proxy.close();
    }
  });

  it("answers waiters with their current state on shutdown", async () => {
    const harness = await createHarness({ database, prefix });
    try {
      const api = await harness.start({ role: "all" });
      const identity = randomUUID();
      const phone = randomUUID();
      await api.requestDeletion(identity, { phone_ids: [phone] });
      const longPoll = api.waitDeletion(identity, 60);
      const stream = api.call("GET", `/v1/user_identities/${identity}/deletion/events`);
      await waitFor(() => api.waiters.size === 2);
      // It resolves at all: a shutdown that sat out the 60 s wait would pass the test's timeout.
      await api.stop();
      const response = await longPoll;
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        ready: false,
        blockers: [{ type: "phone", id: phone }],
        deletion: { status: "pending" },
      });
      const events = await readEvents(await stream);
      expect(events.map((r) => r.deletion?.status)).toEqual(["pending"]);
      expect(api.waiters.size).toBe(0);
    } finally {
      await harness.close();
    }
  });
});
