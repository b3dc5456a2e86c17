import type { ResourceType } from "../../shared/resources.js";
import { acsCredentialRules } from "./acs-credential.js";
import { acsUserRules } from "./acs-user.js";
import { clientSessionRules } from "./client-session.js";
import { enrollmentAutomationRules } from "./enrollment-automation.js";
import { phoneRules } from "./phone.js";
import type { ResourceRules } from "./resource.js";

export {
  evolve,
  type ResourceChange,
  type ResourceState,
  sameState,
  UNKNOWN,
} from "./resource.js";

const allRules: ResourceRules[] = [
  acsUserRules,
  acsCredentialRules,
  enrollmentAutomationRules,
  phoneRules,
  clientSessionRules,
];

export type Projection = { type: ResourceType; idField: string; state: "live" | "deleted" };

const byEventType = new Map<string, Projection>(
  allRules.flatMap((rules) =>
    Object.entries(rules.events).map(
      ([eventType, state]) =>
        [eventType, { type: rules.type, idField: rules.idField, state }] as const,
    ),
  ),
);

/** The projection of an event type, or undefined for an event that is stored only. */
export const projectionFor = (eventType: string): Projection | undefined =>
  byEventType.get(eventType);
