import { randomUUID } from "node:crypto";
import postgres from "postgres";
import {
  buildDeletionEvent,
  buildLoneDeletionEvent,
  buildSeamEvent,
  createAcsContext,
  type SeamEventJson,
} from "../../sim/events.js";
import type { ResourceType } from "../../src/shared/resources.js";

/**
 * One app user's life in Seam, as the projection sees it: two ACS users with two credentials
 * each (issued, one reissued, one invalidated), a phone, an enrollment automation and a client
 * session, then the deletion of all of it. 19 events, a realistic mix of types.
 */
export const identityLifecycle = (start: Date): SeamEventJson[] => {
  let clock = start.getTime();
  const workspaceId = randomUUID();
  const acs = createAcsContext();
  const at = () => {
    clock += 1000;
    return { workspaceId, at: new Date(clock), acs };
  };
  const events: SeamEventJson[] = [];
  const deletions: SeamEventJson[] = [];
  for (let u = 0; u < 2; u += 1) {
    const acs_user_id = randomUUID();
    events.push(buildSeamEvent("acs_user.created", { ...acs, acs_user_id }, at()));
    for (let c = 0; c < 2; c += 1) {
      const acs_credential_id = randomUUID();
      const fields = { ...acs, acs_credential_id };
      events.push(buildSeamEvent("acs_credential.issued", fields, at()));
      if (c === 0) events.push(buildSeamEvent("acs_credential.reissued", fields, at()));
      else events.push(buildSeamEvent("acs_credential.invalidated", fields, at()));
      deletions.push(buildDeletionEvent("acs_credential", acs_credential_id, at()));
    }
    deletions.push(buildDeletionEvent("acs_user", acs_user_id, at()));
  }
  for (const type of ["phone", "enrollment_automation", "client_session"] as const) {
    deletions.push(buildDeletionEvent(type, randomUUID(), at()));
  }
  return [...events, ...deletions];
};

export type BenchIdentity = {
  id: string;
  resources: { type: ResourceType; id: string }[];
  /** One deletion event per resource: once all are projected, the identity is ready. */
  deletionEvents: SeamEventJson[];
};

/** Identities with one resource of each given type, and the events that delete them. */
export const makeIdentities = (count: number, types: ResourceType[]): BenchIdentity[] =>
  Array.from({ length: count }, () => {
    const resources = types.map((type) => ({ type, id: randomUUID() }));
    return {
      id: randomUUID(),
      resources,
      deletionEvents: resources.map((resource) =>
        buildLoneDeletionEvent(resource.type, resource.id),
      ),
    };
  });

/** The baseline pipeline's one table (bench/servers/baseline-pipeline.ts creates it too). */
export const BARE_TABLE = `
  create table if not exists bench_bare_resources (
    resource_id uuid primary key, identity_id uuid, deleted boolean not null default false)`;

/** The projection's store floor (bench/servers/bare-project.ts): each event's id and body. */
export const FLOOR_TABLE = `
  create table if not exists bench_floor_events (event_id text primary key, payload text not null)`;

/** Empties the service's tables (and the baseline's), so every round starts from the same state. */
export const resetTables = async (databaseUrl: string) => {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(BARE_TABLE);
    await sql.unsafe(FLOOR_TABLE);
    await sql`
      truncate events, resources, pending_deletions, executions, execution_calls,
        bench_bare_resources, bench_floor_events`;
  } finally {
    await sql.end({ timeout: 1 });
  }
};

/**
 * Empties the tables, then links the identities' resources and requests their deletions in one
 * statement per table: the state `PUT …/resources` and `POST …/deletion` leave (the API itself
 * is not what is measured), and the baseline pipeline's table alike.
 */
export const seedIdentities = async (databaseUrl: string, identities: BenchIdentity[]) => {
  await resetTables(databaseUrl);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = identities.flatMap((identity) =>
      identity.resources.map((resource) => ({ identity: identity.id, ...resource })),
    );
    for (let i = 0; i < rows.length; i += 20_000) {
      const chunk = rows.slice(i, i + 20_000);
      const types = chunk.map((row) => row.type);
      const ids = chunk.map((row) => row.id);
      const owners = chunk.map((row) => row.identity);
      await sql`
        insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
        select t, r, 'unknown', i, now()
        from unnest(${types}::text[], ${ids}::uuid[], ${owners}::uuid[]) as x(t, r, i)`;
      await sql`
        insert into bench_bare_resources (resource_id, identity_id)
        select r, i from unnest(${ids}::uuid[], ${owners}::uuid[]) as x(r, i)`;
    }
    const identityIds = identities.map((identity) => identity.id);
    await sql`
      insert into pending_deletions (user_identity_id, status)
      select i, 'pending' from unnest(${identityIds}::uuid[]) as x(i)`;
  } finally {
    await sql.end({ timeout: 1 });
  }
};
