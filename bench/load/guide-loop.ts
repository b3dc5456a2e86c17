import type { SimIdentity } from "../servers/seam-sim.js";

/**
 * Seam's guide to deleting a user identity, as an app that follows it runs it: the steps in the
 * guide's order (CONTRACT §8's stepwise order), each step's deletes together, then, for a step
 * whose deletions Seam reports by event, `/events/list` once a second until every one of them
 * has appeared (list, compare, sleep a second, again, as the polling section's loop). The
 * identity's resources are given (the guide's app lists them first: not counted here).
 */

/**
 * A step: the identity's resources it deletes, its delete route and the parameter naming the
 * resource (which the deletion event names too), and the event each deletion is reported by,
 * when the step awaits it (a client session's step and the identity's own do not).
 */
type Step = [ids: (i: SimIdentity) => string[], route: string, idParam: string, event?: string];

const STEPS: Step[] = [
  [(i) => i.client_session_ids, "/client_sessions/delete", "client_session_id"],
  [
    (i) => i.acs_credential_ids,
    "/acs/credentials/delete",
    "acs_credential_id",
    "acs_credential.deleted",
  ],
  [(i) => i.acs_user_ids, "/acs/users/delete", "acs_user_id", "acs_user.deleted"],
  [
    (i) => i.enrollment_automation_ids,
    "/user_identities/enrollment_automations/delete",
    "enrollment_automation_id",
    "enrollment_automation.deleted",
  ],
  [(i) => i.phone_ids, "/phones/deactivate", "device_id", "phone.deactivated"],
  [(i) => [i.user_identity_id], "/user_identities/delete", "user_identity_id"],
];

const POLL_INTERVAL_MS = 1000;

/** Runs the guide for one identity; the requests it made, by route. */
export const runGuideLoop = async (
  seam: { url: string; apiKey: string },
  identity: SimIdentity,
): Promise<Record<string, number>> => {
  const made: Record<string, number> = {};
  const call = async (route: string, params: Record<string, unknown>) => {
    made[route] = (made[route] ?? 0) + 1;
    const response = await fetch(`${seam.url}${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${seam.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(params),
    });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${route} answered ${response.status}`);
    return body;
  };
  for (const [idsOf, route, idParam, awaited] of STEPS) {
    const ids = idsOf(identity);
    if (ids.length === 0) continue;
    // A second early: events are stamped by the simulator's clock at millisecond precision.
    const since = new Date(Date.now() - 1000).toISOString();
    await Promise.all(ids.map((id) => call(route, { [idParam]: id })));
    if (awaited === undefined) continue;
    for (;;) {
      const { events } = (await call("/events/list", { since, limit: 500 })) as {
        events: Record<string, unknown>[];
      };
      const seen = new Set(
        events.filter((event) => event.event_type === awaited).map((event) => event[idParam]),
      );
      if (ids.every((id) => seen.has(id))) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }
  return made;
};
