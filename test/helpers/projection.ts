import { expect } from "vitest";
import type { Sql } from "../../src/db/client.js";
import type { FixtureEvent } from "../../src/replay/fixture.js";

type ResourceType =
  | "acs_user"
  | "acs_credential"
  | "enrollment_automation"
  | "phone"
  | "client_session";

/**
 * CONTRACT §4 written out again, apart from src/projector: the tests check the projector
 * against the contract, not against its own tables.
 */
const PROJECTED: Record<string, { type: ResourceType; idField: string; deletes: boolean }> = {
  "acs_user.created": { type: "acs_user", idField: "acs_user_id", deletes: false },
  "acs_user.deleted": { type: "acs_user", idField: "acs_user_id", deletes: true },
  "acs_credential.issued": { type: "acs_credential", idField: "acs_credential_id", deletes: false },
  "acs_credential.reissued": {
    type: "acs_credential",
    idField: "acs_credential_id",
    deletes: false,
  },
  "acs_credential.invalidated": {
    type: "acs_credential",
    idField: "acs_credential_id",
    deletes: false,
  },
  "acs_credential.deleted": { type: "acs_credential", idField: "acs_credential_id", deletes: true },
  "enrollment_automation.deleted": {
    type: "enrollment_automation",
    idField: "enrollment_automation_id",
    deletes: true,
  },
  "phone.deactivated": { type: "phone", idField: "device_id", deletes: true },
  "client_session.deleted": {
    type: "client_session",
    idField: "client_session_id",
    deletes: true,
  },
};

type ResourceRowView = {
  resource_type: string;
  resource_id: string;
  workspace_id: string | null;
  user_identity_id: string | null;
  state: string;
  event_id: string | null;
  event_type: string | null;
  event_occurred_ms: number | null;
};

type EventRowView = {
  event_id: string;
  event_type: string;
  workspace_id: string;
  occurred_ms: number | null;
  source: string;
  payload: string;
  outcome: string;
  error: string | null;
};

export type Projection = { resources: ResourceRowView[]; events: EventRowView[] };

const byResourceKey = (a: ResourceRowView, b: ResourceRowView) =>
  `${a.resource_type}/${a.resource_id}`.localeCompare(`${b.resource_type}/${b.resource_id}`);

/**
 * The state a fixture whose every resource ends with its deletion event must project, whatever
 * the order and repetition of delivery: each resource deleted, set by that deletion event
 * (deletion is terminal, so a later event loses), and each event stored once, as received.
 */
export const expectedProjection = (
  fixture: FixtureEvent[],
  source: "replay" | "webhook" = "replay",
): Projection => {
  const resources = new Map<string, ResourceRowView>();
  const seen = new Set<string>();
  const events = new Map<string, EventRowView>();
  for (const { body, eventId } of fixture) {
    const json = JSON.parse(body) as Record<string, string>;
    const eventType = json.event_type as string;
    const occurredMs = Date.parse(json.occurred_at as string);
    const rule = PROJECTED[eventType];
    events.set(eventId, {
      event_id: eventId,
      event_type: eventType,
      workspace_id: json.workspace_id as string,
      occurred_ms: occurredMs,
      source,
      payload: body,
      outcome: rule ? "projected" : "ignored",
      error: null,
    });
    if (!rule) continue;
    const key = `${rule.type}/${json[rule.idField]}`;
    seen.add(key);
    if (!rule.deletes) continue;
    if (resources.has(key)) throw new Error(`fixture deletes ${key} twice`);
    resources.set(key, {
      resource_type: rule.type,
      resource_id: json[rule.idField] as string,
      workspace_id: json.workspace_id as string,
      user_identity_id: null,
      state: "deleted",
      event_id: eventId,
      event_type: eventType,
      event_occurred_ms: occurredMs,
    });
  }
  const undeleted = [...seen].filter((key) => !resources.has(key));
  if (undeleted.length > 0) throw new Error(`fixture never deletes ${undeleted.join(", ")}`);
  return {
    resources: [...resources.values()].sort(byResourceKey),
    events: [...events.values()].sort((a, b) => a.event_id.localeCompare(b.event_id)),
  };
};

/** The projected tables, in the shape and order of expectedProjection. */
export const readProjection = async (sql: Sql): Promise<Projection> => {
  const resources = await sql<ResourceRowView[]>`
    select resource_type, resource_id::text, workspace_id, user_identity_id::text, state,
           event_id, event_type,
           (extract(epoch from event_occurred_at) * 1000)::float8 as event_occurred_ms
    from resources`;
  const events = await sql<EventRowView[]>`
    select event_id, event_type, workspace_id,
           (extract(epoch from occurred_at) * 1000)::float8 as occurred_ms,
           source, payload, outcome, error
    from events`;
  return {
    resources: [...resources].sort(byResourceKey),
    events: [...events].sort((a, b) => a.event_id.localeCompare(b.event_id)),
  };
};

export const countEvents = async (sql: Sql): Promise<number> => {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from events`;
  return row?.count ?? 0;
};

/** Asserts that the tables hold exactly what the fixture must project (see expectedProjection). */
export const expectProjectionOf = async (sql: Sql, fixture: FixtureEvent[]): Promise<void> => {
  const projection = await readProjection(sql);
  const expected = expectedProjection(fixture);
  expect(projection.resources).toEqual(expected.resources);
  expect(projection.events).toEqual(expected.events);
};
