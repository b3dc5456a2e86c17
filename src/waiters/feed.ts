import type { Readiness } from "../shared/readiness.js";
import { Held } from "./held.js";

/**
 * Changes a feed holds for a slow reader before it gives up on them and asks the client to
 * re-list (`resync`): a stream that does not read cannot make the process hold without bound.
 */
const MAX_PENDING = 5_000;

/** What a feed hands its stream: the changes since the last batch, and whether any were lost. */
export type FeedBatch = { resync: boolean; items: Readiness[] };

/**
 * The follower of every deletion (`GET /v1/deletions/events`): the registry delivers the
 * readiness of every identity it is notified of. Only the newest state of each identity is
 * kept until the stream takes it; when changes were lost (a listener reconnect, a reader too
 * slow), the next batch says `resync`.
 */
export class Feed extends Held {
  #pending = new Map<string, Readiness>();
  #resync = false;

  deliver(readiness: Readiness): void {
    if (this.#pending.size >= MAX_PENDING && !this.#pending.has(readiness.user_identity_id)) {
      this.resync();
      return;
    }
    this.#pending.delete(readiness.user_identity_id); // re-inserted last: changes in order
    this.#pending.set(readiness.user_identity_id, readiness);
    this.wake();
  }

  /** Changes may have been missed: the client is to list again. */
  resync(): void {
    this.#pending.clear();
    this.#resync = true;
    this.wake();
  }

  /** Waits for changes (or the end, `signal`, `timeoutMs`); undefined when there were none. */
  async next(signal: AbortSignal, timeoutMs: number): Promise<FeedBatch | undefined> {
    const empty = () => this.#pending.size === 0 && !this.#resync;
    await this.sleep(!empty(), signal, timeoutMs);
    if (empty()) return undefined;
    const batch = { resync: this.#resync, items: [...this.#pending.values()] };
    this.#pending.clear();
    this.#resync = false;
    return batch;
  }
}
