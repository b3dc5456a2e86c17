import { EventEmitter } from "node:events";
import type { WaiterCap } from "./registry.js";

/**
 * What the waiting feature reports about itself (graphile-worker's `pool:listen:*` events are
 * the model): metrics and logs subscribe here, and tests wait on an event instead of a callback.
 */
export type WaitingEventMap = {
  /** A LISTEN succeeded: the first (`reconnected` false) and each after a reconnect. */
  "listen:success": [{ reconnected: boolean }];
  /** A LISTEN could not be issued; postgres.js retries it by itself. */
  "listen:error": [{ error: Error }];
  /** Waiters of these identities got a fresh state, `seconds` after the oldest notification. */
  wake: [{ identityIds: string[]; seconds: number | undefined }];
  /** A wake-up read failed; it is retried after a pause. */
  "wake:error": [{ error: Error; identityIds: string[] }];
  /** A new waiter was refused (503) because this cap was reached. */
  refuse: [{ cap: WaiterCap }];
  /** The registry closed: every waiter was answered with its current state. */
  close: [];
};

export type WaitingEvents = EventEmitter<WaitingEventMap>;

export const createWaitingEvents = (): WaitingEvents => new EventEmitter<WaitingEventMap>();
