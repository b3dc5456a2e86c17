import { describe, expect, it } from "vitest";
import { type CallRow, type ExecutionSnapshot, plan } from "./plan.js";

const identity = "00000000-0000-4000-8000-000000000001";
const cred = (n: number) => ({ type: "acs_credential" as const, id: `c${n}` });
const user = { type: "acs_user" as const, id: "u1" };
const session = { type: "client_session" as const, id: "s1" };
const phone = { type: "phone" as const, id: "p1" };

const snapshot = (over: Partial<ExecutionSnapshot>): ExecutionSnapshot => ({
  identityId: identity,
  strategy: "stepwise",
  step: null,
  calls: [],
  live: [],
  ...over,
});

describe("plan, stepwise", () => {
  it("starts at the first step with resources, skipping empty ones", () => {
    const next = plan(snapshot({ live: [cred(1), cred(2), user] }));
    expect(next.step).toBe("acs_credentials");
    expect(next.status).toBe("running");
    expect(next.insert.map((c) => [c.type, c.id, c.state])).toEqual([
      ["acs_credential", "c1", "pending"],
      ["acs_credential", "c2", "pending"],
    ]);
  });

  it("starts with client sessions when there are some", () => {
    const next = plan(snapshot({ live: [session, cred(1)] }));
    expect(next.step).toBe("client_sessions");
    expect(next.insert).toEqual([{ ...session, step: "client_sessions", state: "pending" }]);
  });

  it("waits while a call of the step is not done", () => {
    const calls: CallRow[] = [
      { ...cred(1), step: "acs_credentials", state: "awaiting" },
      { ...cred(2), step: "acs_credentials", state: "done" },
    ];
    const next = plan(snapshot({ step: "acs_credentials", calls, live: [cred(1), user] }));
    expect(next).toEqual({
      step: "acs_credentials",
      status: "running",
      done: [],
      insert: [],
      calls,
    });
  });

  it("calls a resource of the step in hand linked after the step started", () => {
    const calls: CallRow[] = [{ ...cred(1), step: "acs_credentials", state: "awaiting" }];
    const next = plan(snapshot({ step: "acs_credentials", calls, live: [cred(1), cred(2), user] }));
    expect(next).toEqual({
      step: "acs_credentials",
      status: "running",
      done: [],
      insert: [{ ...cred(2), step: "acs_credentials", state: "pending" }],
      calls,
    });
  });

  it("calls a resource linked once its step had passed in the step in hand, before the identity", () => {
    const calls: CallRow[] = [
      { ...cred(1), step: "acs_credentials", state: "done" },
      { ...phone, step: "phones", state: "awaiting" },
    ];
    const next = plan(snapshot({ step: "phones", calls, live: [cred(2)] }));
    expect(next).toEqual({
      step: "phones",
      status: "running",
      done: [phone],
      insert: [{ ...cred(2), step: "phones", state: "pending" }],
      calls: [
        { ...cred(1), step: "acs_credentials", state: "done" },
        { ...phone, step: "phones", state: "done" },
      ],
    });
  });

  it("completes a call whose resource was reported deleted, and moves on", () => {
    const calls: CallRow[] = [{ ...cred(1), step: "acs_credentials", state: "awaiting" }];
    const next = plan(snapshot({ step: "acs_credentials", calls, live: [user, phone] }));
    expect(next.done).toEqual([cred(1)]);
    expect(next.step).toBe("acs_users");
    expect(next.insert).toEqual([{ ...user, step: "acs_users", state: "pending" }]);
  });

  it("hands back the snapshot's calls with their other fields, those done marked, as copies", () => {
    const calls = [
      { ...cred(1), step: "acs_credentials" as const, state: "awaiting" as const, round: 2 },
      { ...cred(2), step: "acs_credentials" as const, state: "pending" as const, round: 1 },
    ];
    const next = plan(snapshot({ step: "acs_credentials", calls, live: [cred(2)] }));
    expect(next.calls).toEqual([
      { ...cred(1), step: "acs_credentials", state: "done", round: 2 },
      { ...cred(2), step: "acs_credentials", state: "pending", round: 1 },
    ]);
    expect(calls[0]?.state).toBe("awaiting");
  });

  it("goes from the last resource step to the identity, then completes", () => {
    const calls: CallRow[] = [{ ...phone, step: "phones", state: "awaiting" }];
    const toIdentity = plan(snapshot({ step: "phones", calls, live: [] }));
    expect(toIdentity.step).toBe("user_identity");
    expect(toIdentity.insert).toEqual([
      { type: "user_identity", id: identity, step: "user_identity", state: "pending" },
    ]);
    const identityCall: CallRow = {
      type: "user_identity",
      id: identity,
      step: "user_identity",
      state: "done",
    };
    const end = plan(snapshot({ step: "user_identity", calls: [identityCall], live: [] }));
    expect(end).toEqual({
      step: null,
      status: "completed",
      done: [],
      insert: [],
      calls: [identityCall],
    });
  });

  it("with nothing linked, goes straight to the identity", () => {
    expect(plan(snapshot({})).step).toBe("user_identity");
  });

  it("a client session's call completes the step once answered, its event not awaited", () => {
    const calls: CallRow[] = [{ ...session, step: "client_sessions", state: "done" }];
    const next = plan(snapshot({ step: "client_sessions", calls, live: [session, cred(1)] }));
    expect(next.step).toBe("acs_credentials");
  });
});

describe("plan, cascade", () => {
  it("deletes the identity first", () => {
    const next = plan(snapshot({ strategy: "cascade", live: [cred(1), user] }));
    expect(next.step).toBe("user_identity");
    expect(next.insert).toEqual([
      { type: "user_identity", id: identity, step: "user_identity", state: "pending" },
    ]);
  });

  it("then awaits every linked resource, and completes when none is left", () => {
    const identityCall: CallRow = {
      type: "user_identity",
      id: identity,
      step: "user_identity",
      state: "done",
    };
    const awaiting = plan(
      snapshot({
        strategy: "cascade",
        step: "user_identity",
        calls: [identityCall],
        live: [cred(1), user],
      }),
    );
    expect(awaiting.status).toBe("running");
    expect(awaiting.insert.map((c) => [c.id, c.state])).toEqual([
      ["c1", "awaiting"],
      ["u1", "awaiting"],
    ]);
    const calls: CallRow[] = [identityCall, ...awaiting.insert];
    const half = plan(
      snapshot({ strategy: "cascade", step: "user_identity", calls, live: [user] }),
    );
    expect(half).toMatchObject({ status: "running", done: [cred(1)], insert: [] });
    const end = plan(snapshot({ strategy: "cascade", step: "user_identity", calls, live: [] }));
    expect(end).toMatchObject({ status: "completed", step: null });
  });
});
