import type { RouteResponse } from "@seamapi/types/connect";
import type { AcsContext } from "./events.js";

/**
 * What the simulated workspace holds, and each resource as Seam answers it: the answer types of
 * the pinned @seamapi/types (1.721.0), so the typecheck says when a required field is missing.
 */

export type SimResourceType =
  | "user_identity"
  | "acs_user"
  | "acs_credential"
  | "enrollment_automation"
  | "phone"
  | "client_session";

/** `being_deleted`: a delete was accepted and has not completed yet (Seam still shows it). */
type ResourceState = "live" | "being_deleted" | "deleted";

export type SimResource = {
  type: SimResourceType;
  id: string;
  /** The identity it belongs to (for an identity, itself). */
  userIdentityId: string | undefined;
  /** A credential's ACS user. */
  acsUserId: string | undefined;
  createdAt: string;
  state: ResourceState;
  deletedAt: Date | undefined;
};

type Workspace = { workspaceId: string; acs: AcsContext };

type AcsUserJson = RouteResponse<"/acs/users/get">["acs_user"];
type AcsCredentialJson = RouteResponse<"/acs/credentials/get">["acs_credential"];
type PhoneJson = RouteResponse<"/phones/get">["phone"];
type ClientSessionJson = RouteResponse<"/client_sessions/get">["client_session"];
type EnrollmentAutomationJson =
  RouteResponse<"/user_identities/enrollment_automations/get">["enrollment_automation"];
type UserIdentityJson = RouteResponse<"/user_identities/get">["user_identity"];

const beingDeleted = (resource: SimResource) =>
  resource.state === "being_deleted"
    ? [
        {
          warning_code: "being_deleted" as const,
          message: "Being deleted.",
          created_at: new Date().toISOString(),
        },
      ]
    : [];

const shortId = (id: string) => id.slice(0, 8);

export const acsUserJson = (user: SimResource, workspace: Workspace): AcsUserJson => ({
  acs_user_id: user.id,
  ...workspace.acs,
  workspace_id: workspace.workspaceId,
  created_at: user.createdAt,
  display_name: `Simulated user ${shortId(user.id)}`,
  warnings: beingDeleted(user),
  errors: [],
  last_successful_sync_at: user.createdAt,
  is_managed: true,
  ...(user.userIdentityId === undefined ? {} : { user_identity_id: user.userIdentityId }),
});

export const acsCredentialJson = (
  credential: SimResource,
  workspace: Workspace,
): AcsCredentialJson => ({
  acs_credential_id: credential.id,
  ...workspace.acs,
  workspace_id: workspace.workspaceId,
  created_at: credential.createdAt,
  display_name: `Simulated credential ${shortId(credential.id)}`,
  access_method: "mobile_key",
  errors: [],
  warnings: beingDeleted(credential),
  is_managed: true,
  ...(credential.acsUserId === undefined ? {} : { acs_user_id: credential.acsUserId }),
  ...(credential.userIdentityId === undefined
    ? {}
    : { user_identity_id: credential.userIdentityId }),
});

export const phoneJson = (phone: SimResource, workspace: Workspace): PhoneJson => ({
  device_id: phone.id,
  display_name: `Simulated phone ${shortId(phone.id)}`,
  workspace_id: workspace.workspaceId,
  created_at: phone.createdAt,
  custom_metadata: {},
  errors: [],
  warnings: [],
  device_type: "ios_phone",
  properties: {},
});

export const clientSessionJson = (
  session: SimResource,
  workspace: Workspace,
): ClientSessionJson => ({
  client_session_id: session.id,
  workspace_id: workspace.workspaceId,
  created_at: session.createdAt,
  expires_at: new Date(Date.parse(session.createdAt) + 86_400_000).toISOString(),
  token: `seam_cst_sim_${session.id.replaceAll("-", "")}`,
  user_identifier_key: null,
  device_count: 0,
  connected_account_ids: [workspace.acs.connected_account_id],
  connect_webview_ids: [],
  user_identity_ids: session.userIdentityId === undefined ? [] : [session.userIdentityId],
  ...(session.userIdentityId === undefined ? {} : { user_identity_id: session.userIdentityId }),
});

export const enrollmentAutomationJson = (
  automation: SimResource,
  workspace: Workspace,
): EnrollmentAutomationJson => ({
  enrollment_automation_id: automation.id,
  credential_manager_acs_system_id: workspace.acs.acs_system_id,
  user_identity_id: automation.userIdentityId ?? "",
  created_at: automation.createdAt,
  workspace_id: workspace.workspaceId,
});

export const userIdentityJson = (
  identity: SimResource,
  workspace: Workspace,
  acsUserIds: string[],
): UserIdentityJson => ({
  user_identity_id: identity.id,
  user_identity_key: null,
  email_address: null,
  phone_number: null,
  display_name: `Simulated identity ${shortId(identity.id)}`,
  full_name: null,
  created_at: identity.createdAt,
  workspace_id: workspace.workspaceId,
  errors: [],
  warnings: [],
  acs_user_ids: acsUserIds,
});
