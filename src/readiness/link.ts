import { sql } from "drizzle-orm";
import { arrayParam, type Tx } from "../db/client.js";
import { AppError } from "../errors.js";
import type { ResourceType } from "../shared/resources.js";

/** The request field that lists each resource type (CONTRACT §5). */
const LINK_FIELDS = {
  acs_user_ids: "acs_user",
  acs_credential_ids: "acs_credential",
  enrollment_automation_ids: "enrollment_automation",
  phone_ids: "phone",
  client_session_ids: "client_session",
} as const satisfies Record<string, ResourceType>;

export type LinkField = keyof typeof LINK_FIELDS;
export type ResourceLinks = Partial<Record<LinkField, string[]>>;

/** Both requests' lists together (an id in both is linked once). */
export const withLinks = (a: ResourceLinks, b: ResourceLinks): ResourceLinks =>
  Object.fromEntries(
    (Object.keys(LINK_FIELDS) as LinkField[]).map((field) => [
      field,
      [...(a[field] ?? []), ...(b[field] ?? [])],
    ]),
  );

const fieldOf = (type: ResourceType): LinkField =>
  (Object.keys(LINK_FIELDS) as LinkField[]).find((field) => LINK_FIELDS[field] === type) ??
  "acs_user_ids";

/** The listed resources, once each, in the key order every writer of `resources` locks in. */
const linkKeys = (links: ResourceLinks): { type: ResourceType; id: string }[] => {
  const keys = new Map<string, { type: ResourceType; id: string }>();
  for (const field of Object.keys(LINK_FIELDS) as LinkField[]) {
    for (const raw of links[field] ?? []) {
      const id = raw.toLowerCase();
      keys.set(`${LINK_FIELDS[field]}/${id}`, { type: LINK_FIELDS[field], id });
    }
  }
  return [...keys.values()];
};

/**
 * Links resources to an identity inside `tx`, all or none: a resource already linked to another
 * identity is a conflict that rolls the whole transaction back.
 *
 * The upsert locks each resource row, in the same key order as the projector's lockResources,
 * and it must run before lockIdentities: the projector holds row locks when it asks for the
 * identity lock, so taking them the other way round here could deadlock with it. A resource
 * that is already deleted is linked too, and does not block (its state stays `deleted`).
 */
export const linkResources = async (
  tx: Tx,
  identityId: string,
  links: ResourceLinks,
): Promise<void> => {
  const keys = linkKeys(links);
  if (keys.length === 0) return;
  const rows = await tx.execute<{
    resource_type: ResourceType;
    resource_id: string;
    user_identity_id: string;
  }>(sql`
    insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
    select k.resource_type, k.resource_id, 'unknown', ${identityId}::uuid, now()
    from unnest(${arrayParam(keys.map((k) => k.type))}::text[], ${arrayParam(keys.map((k) => k.id))}::uuid[])
         as k(resource_type, resource_id)
    order by k.resource_type, k.resource_id
    on conflict (resource_type, resource_id) do update
      set user_identity_id = coalesce(resources.user_identity_id, excluded.user_identity_id),
          linked_at = case when resources.user_identity_id is null then excluded.linked_at
                           else resources.linked_at end
    returning resource_type, resource_id, user_identity_id::text`);
  const taken = rows.find((row) => row.user_identity_id !== identityId);
  if (taken !== undefined) {
    throw new AppError(
      "conflict",
      `${taken.resource_type} ${taken.resource_id} is linked to another user identity`,
      fieldOf(taken.resource_type),
    );
  }
};
