import { randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { deletionEvent } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { signBody } from "../replay/sign.js";

const TOKEN_A = `token-a-${randomUUID()}`;
const TOKEN_B = `token-b-${randomUUID()}`;

describe("MAX_WAITERS and each token's share of it (CONTRACT §2)", () => {
  // Three waiters a process; two tokens, so each may hold two (half, rounded up).
  const harness = useHarness(
    { env: { API_TOKENS: `${TOKEN_A},${TOKEN_B}`, MAX_WAITERS: "3" } },
    { role: "api" },
  );
  const aborts: AbortController[] = [];
  let service: Service;
  beforeAll(() => {
    service = harness().service;
  });
  // Before the harness's own afterAll (hooks run in reverse): no stream holds the service open.
  afterAll(() => {
    for (const abort of aborts) abort.abort();
  });

  const call = (token: string, method: string, path: string, body?: unknown) => {
    const abort = new AbortController();
    aborts.push(abort);
    return fetch(`${service.url}${path}`, {
      method,
      signal: abort.signal,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  /** A pending deletion of a fresh identity, to wait on. */
  const pending = async (token: string) => {
    const identity = randomUUID();
    const response = await call(token, "POST", `/v1/user_identities/${identity}/deletion`, {
      phone_ids: [randomUUID()],
    });
    expect(response.status).toBe(201);
    return `/v1/user_identities/${identity}/deletion`;
  };
  const size = () => service.waiters.size;
  const expectRefused = async (response: Response, message: RegExp) => {
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("service_unavailable");
    expect(body.error.message).toMatch(message);
  };
  const refusedTotal = async (cap: string) => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith(`seam_projector_waiters_rejected_total{cap="${cap}"`));
    return Number(line?.split(" ").pop());
  };

  it("refuses a waiter past a token's share, then past the process's cap, and still serves webhooks and probes", async () => {
    // Token A: two SSE streams, its whole share.
    const streams = [];
    for (let i = 0; i < 2; i += 1) {
      const response = await call(TOKEN_A, "GET", `${await pending(TOKEN_A)}/events`);
      expect(response.status).toBe(200);
      streams.push(response);
    }
    await waitFor(() => size() === 2);
    await expectRefused(await call(TOKEN_A, "GET", `${await pending(TOKEN_A)}/events`), /token/);
    await expectRefused(await call(TOKEN_A, "GET", `${await pending(TOKEN_A)}?wait=60`), /token/);
    // Token B: one long-poll fills the process.
    const polling = call(TOKEN_B, "GET", `${await pending(TOKEN_B)}?wait=60`).catch(
      () => undefined,
    );
    await waitFor(() => size() === 3);
    await expectRefused(await call(TOKEN_B, "GET", `${await pending(TOKEN_B)}/events`), /process/);
    expect(size()).toBe(3);
    expect(await refusedTotal("token")).toBe(2);
    expect(await refusedTotal("process")).toBe(1);

    // What must go on at the cap.
    const body = JSON.stringify(deletionEvent("phone", randomUUID()));
    const webhook = await fetch(`${service.url}/webhooks/seam`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signBody(service.secret, body) },
    });
    expect(webhook.status).toBe(202);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(
      (await call(TOKEN_B, "GET", `/v1/user_identities/${randomUUID()}/readiness`)).status,
    ).toBe(200);
    // What needs no wait is answered at the cap too: a long-poll without `wait`, one on a
    // settled deletion, one on an identity with none (its 404 comes before any 503).
    const waitingOnA = await pending(TOKEN_A);
    const noWait = await call(TOKEN_A, "GET", waitingOnA);
    expect(noWait.status).toBe(200);
    expect(await noWait.json()).toMatchObject({ ready: false, deletion: { status: "pending" } });
    const readyIdentity = randomUUID();
    expect(
      (await call(TOKEN_A, "POST", `/v1/user_identities/${readyIdentity}/deletion`, {})).status,
    ).toBe(201);
    const settledNow = await call(
      TOKEN_A,
      "GET",
      `/v1/user_identities/${readyIdentity}/deletion?wait=60`,
    );
    expect(settledNow.status).toBe(200);
    expect(await settledNow.json()).toMatchObject({ ready: true });
    const none = `/v1/user_identities/${randomUUID()}/deletion`;
    expect((await call(TOKEN_A, "GET", `${none}?wait=60`)).status).toBe(404);
    expect((await call(TOKEN_A, "GET", `${none}/events`)).status).toBe(404);
    expect(size()).toBe(3);
    // Answered, so not counted as refused.
    expect(await refusedTotal("token")).toBe(2);

    // A stream that ends gives its place back.
    await streams[0]?.body?.cancel();
    await waitFor(() => size() === 2);
    const again = await call(TOKEN_A, "GET", `${await pending(TOKEN_A)}/events`);
    expect(again.status).toBe(200);
    await waitFor(() => size() === 3);
    void polling;
  });

  it("accepts at most MAX_WAITERS + 1,000 connections, closing the ones past it at once", async () => {
    const { port } = new URL(service.url);
    const sockets: Socket[] = [];
    let closed = 0;
    try {
      // Idle connections count as much as waiting ones; these 3 + 1,000 + 5 never send a byte.
      for (let i = 0; i < 3 + 1000 + 5; i += 1) {
        const socket = connect(Number(port), "127.0.0.1");
        socket.on("error", () => {});
        socket.on("close", () => {
          closed += 1;
        });
        sockets.push(socket);
      }
      // The first test's streams and fetch's pooled connections count too: no more than the cap
      // of these stay open, whatever else is open.
      await waitFor(() => sockets.length - closed <= 3 + 1000, {
        // Well inside the 10 s in which the server drops a connection that sends no request.
        timeoutMs: 5000,
        message: "connections past the cap closed",
      });
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
