import type { Tx } from "../db/client.js";
import { AppError } from "../errors.js";
import type { ResourceType } from "../shared/resources.js";
import { linkResources as linkResourceRows } from "../sql/link-resources.js";
import type { ResourceKey } from "../sql/lock-resources.js";

/** The request field that lists each resource type (docs/api.md). */
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
const linkKeys = (links: ResourceLinks): ResourceKey[] => {
  const keys = new Map<string, ResourceKey>();
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
 * identity is a conflict that rolls the whole transaction back. Run it before the identity lock
 * (see sql/link-resources.ts for the lock order). A resource that is already deleted is linked
 * too, and does not block (its state stays `deleted`).
 */
export const linkResources = async (
  tx: Tx,
  identityId: string,
  links: ResourceLinks,
): Promise<void> => {
  const keys = linkKeys(links);
  if (keys.length === 0) return;
  const rows = await linkResourceRows(tx, identityId, keys);
  const taken = rows.find((row) => row.user_identity_id !== identityId);
  if (taken !== undefined) {
    throw new AppError(
      "conflict",
      `${taken.resource_type} ${taken.resource_id} is linked to another user identity`,
      fieldOf(taken.resource_type),
    );
  }
};
