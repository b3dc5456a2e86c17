import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { deletionEvent, type LinkableType } from "../test/helpers/readiness.js";

export type BenchIdentity = {
  id: string;
  resources: { type: LinkableType; id: string }[];
  /** One deletion event per resource: once all are projected, the identity is ready. */
  deletionEvents: Record<string, unknown>[];
};

/** Identities with the given resource types each, and the events that delete them. */
export const makeIdentities = (count: number, types: LinkableType[]): BenchIdentity[] =>
  Array.from({ length: count }, () => {
    const resources = types.map((type) => ({ type, id: randomUUID() }));
    return {
      id: randomUUID(),
      resources,
      deletionEvents: resources.map((resource) => deletionEvent(resource.type, resource.id)),
    };
  });

/**
 * Links the resources and requests each identity's deletion in one statement per table, the
 * state `PUT …/resources` and `POST …/deletion` leave (the API itself is not what is measured
 * here), and the bare pipeline's table alike.
 */
export const seedIdentities = async (databaseUrl: string, identities: BenchIdentity[]) => {
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

/** Empties what a section leaves behind, so each run starts from the same tables. */
export const resetBenchTables = async (databaseUrl: string) => {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`
      create table if not exists bench_bare_resources (
        resource_id uuid primary key, identity_id uuid, deleted boolean not null default false)`;
    await sql`truncate events, resources, pending_deletions, bench_bare_resources`;
  } finally {
    await sql.end({ timeout: 1 });
  }
};
