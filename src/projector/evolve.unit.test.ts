import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deletionEvent } from "../../test/helpers/readiness.js";
import { buildIdentityScenario } from "../../test/helpers/scenario.js";
import { classifyJob } from "./classify.js";
import { evolve, type ResourceChange, type ResourceState, ruleFor, UNKNOWN } from "./evolve.js";

const change = (overrides: Partial<ResourceChange>): ResourceChange => ({
  type: "acs_credential",
  id: "5d6f1a36-7a53-4a3e-9d93-8c4b3a7b0c11",
  workspaceId: "w",
  state: "live",
  eventId: "e1",
  eventType: "acs_credential.issued",
  occurredAt: 1_000,
  ...overrides,
});

describe("the projection rules", () => {
  // CONTRACT §4: event type → resource type, the field naming it, the state it reports.
  const projected = {
    "acs_user.created": ["acs_user", "acs_user_id", "live"],
    "acs_user.deleted": ["acs_user", "acs_user_id", "deleted"],
    "acs_credential.issued": ["acs_credential", "acs_credential_id", "live"],
    "acs_credential.reissued": ["acs_credential", "acs_credential_id", "live"],
    "acs_credential.invalidated": ["acs_credential", "acs_credential_id", "live"],
    "acs_credential.deleted": ["acs_credential", "acs_credential_id", "deleted"],
    "enrollment_automation.deleted": [
      "enrollment_automation",
      "enrollment_automation_id",
      "deleted",
    ],
    "phone.deactivated": ["phone", "device_id", "deleted"],
    "client_session.deleted": ["client_session", "client_session_id", "deleted"],
  };

  it("project exactly the events of CONTRACT §4, each onto its resource and id field", () => {
    for (const [eventType, [type, idField, state]] of Object.entries(projected)) {
      expect(ruleFor(eventType), eventType).toMatchObject({ type, idField, state });
    }
  });

  it("project an event whose occurred_at has an offset, as ingress lets it in (not poison)", () => {
    const event = {
      ...deletionEvent("phone", "5d6f1a36-7a53-4a3e-9d93-8c4b3a7b0c12"),
      occurred_at: "2026-02-03T10:00:00+14:00",
    };
    const body = JSON.stringify(event);
    const classified = classifyJob({
      body,
      eventId: String(event.event_id),
      receivedAt: "2026-02-03T00:00:00.000Z",
      source: "webhook",
    });
    expect(classified.kind).toBe("projected");
    expect(classified.record.occurredAt).toBe("2026-02-02T20:00:00.000Z");
    expect(classified.record.payload).toBe(body);
  });

  it("store every other event without projecting it, whatever its name", () => {
    for (const eventType of ["acs_user.updated", "phone.created", "lock.locked", "", "toString"]) {
      expect(ruleFor(eventType), eventType).toBeUndefined();
    }
  });

  it("mark only the events that report a new ACS user or credential as creating it", () => {
    const creating = Object.keys(projected).filter((type) => ruleFor(type)?.creates === true);
    expect(creating).toEqual(["acs_user.created", "acs_credential.issued"]);
  });
});

describe("evolve", () => {
  it("takes the first event of an unknown resource", () => {
    expect(evolve(UNKNOWN, change({})).state).toBe("live");
    expect(evolve(UNKNOWN, change({ state: "deleted", eventId: "d" })).eventId).toBe("d");
  });

  it("lets a later event win among live events", () => {
    const issued = evolve(UNKNOWN, change({ eventId: "a", occurredAt: 1_000 }));
    const invalidated = evolve(
      issued,
      change({ eventId: "b", eventType: "acs_credential.invalidated", occurredAt: 2_000 }),
    );
    expect(invalidated.eventType).toBe("acs_credential.invalidated");
    expect(evolve(invalidated, change({ eventId: "a", occurredAt: 1_000 }))).toEqual(invalidated);
  });

  it("never revives a deleted resource, even with a later event", () => {
    const deleted = evolve(UNKNOWN, change({ state: "deleted", eventId: "d", occurredAt: 1_000 }));
    const after = evolve(deleted, change({ state: "live", eventId: "z", occurredAt: 9_000 }));
    expect(after.state).toBe("deleted");
    expect(after.eventId).toBe("d");
  });

  it("is idempotent", () => {
    const once = evolve(UNKNOWN, change({}));
    expect(evolve(once, change({}))).toEqual(once);
  });

  it("breaks a tie of occurred_at by event id, whatever the order", () => {
    const a = change({ eventId: "a" });
    const b = change({ eventId: "b", eventType: "acs_credential.reissued" });
    expect(evolve(evolve(UNKNOWN, a), b)).toEqual(evolve(evolve(UNKNOWN, b), a));
    expect(evolve(evolve(UNKNOWN, a), b).eventId).toBe("b");
  });
});

/** Folds a delivery sequence into per-resource states, as the projector does across batches. */
const project = (changes: ResourceChange[]): Map<string, ResourceState> => {
  const states = new Map<string, ResourceState>();
  for (const c of changes) {
    const key = `${c.type}/${c.id}`;
    states.set(key, evolve(states.get(key) ?? UNKNOWN, c));
  }
  return states;
};

const changesOf = (scenario: ReturnType<typeof buildIdentityScenario>) =>
  scenario.events.flatMap((event) => {
    const classified = classifyJob({
      body: JSON.stringify(event),
      eventId: event.event_id,
      receivedAt: "2026-01-01T00:00:00.000Z",
      source: "webhook",
    });
    return classified.kind === "projected" ? [classified.change] : [];
  });

describe("evolve over delivery orders (property)", () => {
  const scenario = buildIdentityScenario({
    acsUsers: 3,
    credentialsPerUser: 3,
    phones: 2,
    enrollmentAutomations: 2,
    clientSessions: 2,
  });
  const inOrder = changesOf(scenario);
  const expected = project(inOrder);

  it("ends with every resource of the scenario deleted by its deletion event", () => {
    const deletions = new Map(
      changesOf({ ...scenario, events: scenario.deletionEvents }).map((c) => [
        `${c.type}/${c.id}`,
        c.eventId,
      ]),
    );
    expect(deletions.size).toBe(expected.size);
    for (const [key, state] of expected) {
      expect(state.state).toBe("deleted");
      expect(state.eventId).toBe(deletions.get(key));
    }
  });

  it("converges for any permutation with each event delivered one to three times", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), {
          minLength: inOrder.length,
          maxLength: inOrder.length,
        }),
        fc.infiniteStream(fc.nat()),
        (repeats, randomness) => {
          const deliveries = inOrder.flatMap((c, i) =>
            Array.from({ length: repeats[i] ?? 1 }, () => c),
          );
          // Fisher-Yates driven by fast-check's stream, so a failure shrinks and replays.
          const shuffled = [...deliveries];
          const random = randomness[Symbol.iterator]();
          for (let i = shuffled.length - 1; i > 0; i -= 1) {
            const j = (random.next().value as number) % (i + 1);
            [shuffled[i], shuffled[j]] = [
              shuffled[j] as ResourceChange,
              shuffled[i] as ResourceChange,
            ];
          }
          expect(project(shuffled)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("converges for arbitrary changes on one resource, in any order", () => {
    const arbitraryChange = fc.record({
      state: fc.constantFrom("live" as const, "deleted" as const),
      eventId: fc.string({ minLength: 1, maxLength: 4 }),
      occurredAt: fc.integer({ min: 0, max: 50 }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryChange, { minLength: 1, maxLength: 12 }), (raw) => {
        // One event id names one event: give each id one set of fields.
        const byId = new Map(raw.map((r) => [r.eventId, change(r)]));
        const changes = [...byId.values()];
        const forward = changes.reduce(evolve, UNKNOWN);
        const backward = [...changes].reverse().reduce(evolve, UNKNOWN);
        const doubled = [...changes, ...changes].reduce(evolve, UNKNOWN);
        expect(backward).toEqual(forward);
        expect(doubled).toEqual(forward);
        if (changes.some((c) => c.state === "deleted")) expect(forward.state).toBe("deleted");
      }),
    );
  });
});
