import { randomUUID } from "node:crypto";
import {
  buildDeletionEvent,
  buildSeamEvent,
  type DeletableType,
  type SeamEventJson,
} from "../../sim/events.js";
import { type FixtureEvent, parseFixture } from "../../src/replay/fixture.js";

export type { SeamEventJson } from "../../sim/events.js";

type IdentityResources = {
  acs_user_ids: string[];
  acs_credential_ids: string[];
  enrollment_automation_ids: string[];
  phone_ids: string[];
  client_session_ids: string[];
};

export type IdentityScenario = {
  userIdentityId: string;
  workspaceId: string;
  resources: IdentityResources;
  /** Everything Seam reports in the life of the identity, creation first, deletion last. */
  events: SeamEventJson[];
  /** The deletion events alone: once all are projected, the identity is ready. */
  deletionEvents: SeamEventJson[];
};

export type ScenarioShape = {
  acsUsers?: number;
  credentialsPerUser?: number;
  phones?: number;
  enrollmentAutomations?: number;
  clientSessions?: number;
  start?: Date;
  workspaceId?: string;
};

/**
 * One app user's Seam footprint: ACS users with credentials (issued, one reissued, one
 * invalidated), phones, enrollment automations and client sessions, then the deletion of all of
 * it, as Seam reports it. Each call makes fresh ids, so tests never share state.
 */
export const buildIdentityScenario = (shape: ScenarioShape = {}): IdentityScenario => {
  const workspaceId = shape.workspaceId ?? randomUUID();
  const acsSystemId = randomUUID();
  const connectedAccountId = randomUUID();
  let clock = (shape.start ?? new Date("2026-01-01T00:00:00.000Z")).getTime();
  const nextAt = () => {
    clock += 1000;
    return new Date(clock);
  };
  const event = (eventType: string, fields: Record<string, unknown>): SeamEventJson =>
    buildSeamEvent(eventType, fields, { workspaceId, at: nextAt() });
  const acs = { acs_system_id: acsSystemId, connected_account_id: connectedAccountId };
  const resources: IdentityResources = {
    acs_user_ids: [],
    acs_credential_ids: [],
    enrollment_automation_ids: [],
    phone_ids: [],
    client_session_ids: [],
  };
  const lifecycle: SeamEventJson[] = [];
  const deletions: SeamEventJson[] = [];
  const deletion = (type: DeletableType, id: string) =>
    deletions.push(buildDeletionEvent(type, id, { workspaceId, at: nextAt(), acs }));

  for (let u = 0; u < (shape.acsUsers ?? 2); u += 1) {
    const acsUserId = randomUUID();
    resources.acs_user_ids.push(acsUserId);
    lifecycle.push(event("acs_user.created", { ...acs, acs_user_id: acsUserId }));
    for (let c = 0; c < (shape.credentialsPerUser ?? 2); c += 1) {
      const credentialId = randomUUID();
      resources.acs_credential_ids.push(credentialId);
      lifecycle.push(event("acs_credential.issued", { ...acs, acs_credential_id: credentialId }));
      if (c === 0)
        lifecycle.push(
          event("acs_credential.reissued", { ...acs, acs_credential_id: credentialId }),
        );
      if (c === 1)
        lifecycle.push(
          event("acs_credential.invalidated", { ...acs, acs_credential_id: credentialId }),
        );
    }
  }
  for (let p = 0; p < (shape.phones ?? 1); p += 1) {
    const deviceId = randomUUID();
    resources.phone_ids.push(deviceId);
    // Not projected: stored only. Seam sends many such events alongside.
    lifecycle.push(
      event("device.connected", { device_id: deviceId, connected_account_id: connectedAccountId }),
    );
  }
  for (let e = 0; e < (shape.enrollmentAutomations ?? 1); e += 1) {
    resources.enrollment_automation_ids.push(randomUUID());
  }
  for (let s = 0; s < (shape.clientSessions ?? 1); s += 1) {
    resources.client_session_ids.push(randomUUID());
  }

  for (const id of resources.client_session_ids) deletion("client_session", id);
  for (const id of resources.acs_credential_ids) deletion("acs_credential", id);
  for (const id of resources.acs_user_ids) deletion("acs_user", id);
  for (const id of resources.enrollment_automation_ids) deletion("enrollment_automation", id);
  for (const id of resources.phone_ids) deletion("phone", id);

  return {
    userIdentityId: randomUUID(),
    workspaceId,
    resources,
    events: [...lifecycle, ...deletions],
    deletionEvents: deletions,
  };
};

/** Events as a fixture, one line each, as replay and the tests' queue handle take them. */
export const fixtureOf = (events: SeamEventJson[]): FixtureEvent[] =>
  parseFixture(events.map((event) => JSON.stringify(event)).join("\n"));

/**
 * The events of `identities` fresh scenarios (20 events each with the default shape), every
 * resource ending deleted, so expectProjectionOf knows the state they must project.
 */
export const scenarioFixture = (identities: number, shape: ScenarioShape = {}): FixtureEvent[] =>
  fixtureOf(Array.from({ length: identities }, () => buildIdentityScenario(shape).events).flat());
