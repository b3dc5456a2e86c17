import { randomBytes } from "node:crypto";
import postgres from "postgres";
import type { Sql } from "../db/client.js";
import { toError } from "../errors.js";
import type { Logger } from "../log.js";
import { selectSessionsOf } from "../sql/probes.js";
import type { WaitingEvents } from "./events.js";

export type ListenerOptions = {
  databaseUrl: string;
  channel: string;
  /** Called with the payload of each notification (an identity id). */
  onNotify: (payload: string) => void;
  /** Gets `listen:success` after every LISTEN (the first and each reconnect), `listen:error`. */
  events: WaitingEvents;
  log: Logger;
};

/**
 * The one LISTEN connection of an API process. postgres.js's `listen` keeps a dedicated
 * connection and, when it drops, reconnects and listens again by itself, reporting
 * `listen:success` each time; the registry re-checks its waiters then, since notifications sent in between are
 * lost. The connection carries an application name of its own so that /readyz can ask Postgres
 * whether it is really there, rather than trusting a flag set on the last connect.
 */
export class ReadinessListener {
  readonly applicationName = `seam-projector-listener-${randomBytes(4).toString("hex")}`;
  readonly #sql: Sql;
  #listened = false;
  #started = false;

  constructor(private readonly options: ListenerOptions) {
    this.#sql = postgres(options.databaseUrl, {
      max: 1,
      onnotice: () => {},
      connect_timeout: 5,
      // Reconnect fast, but never hammer a Postgres that is down: 100 ms doubling up to 2 s.
      backoff: (attempt) => Math.min(0.1 * 2 ** attempt, 2),
      connection: { application_name: this.applicationName },
    });
  }

  /**
   * Starts listening. If Postgres cannot be reached, the returned promise rejects, yet
   * postgres.js keeps retrying the LISTEN on its own and `listen:success` follows once it does; so
   * this is called once, and never again (a second call would add a second subscriber).
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const { channel, onNotify, events, log } = this.options;
    this.#sql
      .listen(channel, onNotify, () => {
        const reconnected = this.#listened;
        this.#listened = true;
        log.debug({ channel, reconnected }, "listening for readiness notifications");
        events.emit("listen:success", { reconnected });
      })
      .catch((error: unknown) => {
        log.warn({ err: toError(error) }, "LISTEN failed; postgres.js retries it");
        events.emit("listen:error", { error: toError(error) });
      });
  }

  /**
   * Throws unless the listener's connection is present in Postgres, asked over `pool` (the
   * listener's own connection must never run anything but LISTEN).
   */
  async check(pool: Sql): Promise<void> {
    if (!this.#listened) throw new Error("not listening yet");
    const rows = await selectSessionsOf(pool, this.applicationName);
    if (rows.length === 0) throw new Error("listener connection is down, reconnecting");
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 1 });
  }
}
