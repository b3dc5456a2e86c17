import { AppError, toError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Readiness } from "../shared/readiness.js";
import { type Clock, systemClock } from "./clock.js";
import type { WaitingEvents } from "./events.js";
import { Feed } from "./feed.js";
import { Held } from "./held.js";

export type ReadReadiness = (identityIds: string[]) => Promise<Map<string, Readiness>>;

/** How many waiters the process holds at most, and how many of them one owner (a token) may. */
export type WaiterLimits = { total: number; perOwner: number };

/** Which limit refused a waiter. */
export type WaiterCap = "process" | "token";

/** At most this many identities per read, so one wake never builds a huge statement. */
const MAX_IDS_PER_READ = 1000;

/**
 * One waiting request (a long-poll or an SSE stream). The registry delivers readiness to it;
 * only the newest undelivered state is kept, since a waiter only cares about the present.
 */
export class Waiter extends Held {
  #latest: Readiness | undefined;
  #unseen = false;

  constructor(
    readonly identityId: string,
    onRelease: () => void,
    clock: Clock,
    owner?: string,
    /** How many of the registry's reads had started when this waiter registered. */
    private readonly readsBefore = 0,
  ) {
    super(onRelease, clock, owner);
  }

  /**
   * `read`: the registry's number for the read that found `readiness`. A read that started
   * before the waiter registered is ignored: it may be older than the waiter's own first read
   * (openWait's, made after registering), and a long-poll whose first read was ready would
   * otherwise answer with that older state. Anything committed since is notified and read again.
   */
  deliver(readiness: Readiness, read = Number.POSITIVE_INFINITY): void {
    if (read <= this.readsBefore) return;
    this.#latest = readiness;
    this.#unseen = true;
    this.wake();
  }

  /**
   * Waits until a state is delivered, the registry closes, `signal` aborts or `timeoutMs`
   * passes; returns the newest state delivered since the last call, if any. Waiting is a timer
   * and a callback: nothing is read from the database here.
   */
  next(signal: AbortSignal, timeoutMs: number): Promise<Readiness | undefined> {
    return this.sleep(this.#unseen, signal, timeoutMs).then(() => {
      if (!this.#unseen) return undefined;
      this.#unseen = false;
      return this.#latest;
    });
  }
}

/**
 * The waiters of one API process, keyed by user identity. A notification for an identity leads
 * to one read for all its waiters (and notifications that arrive together share one read); an
 * identity nobody waits for costs nothing. Reads happen only on a notification, after the
 * listener (re)connects, or at close: never on a timer while waiters wait.
 */
export class WaiterRegistry {
  readonly #byIdentity = new Map<string, Set<Waiter>>();
  /** Followers of every deletion: every notified identity is read for them. */
  readonly #feeds = new Set<Feed>();
  /** Waiters registered now, and how many of them each owner holds (for the limits). */
  #size = 0;
  readonly #byOwner = new Map<string, number>();
  /** Reads started so far, each numbered by this count (see Waiter.deliver). */
  #readsStarted = 0;
  /** Identities notified and not yet re-read. */
  readonly #dirty = new Set<string>();
  /** When the oldest notification still in `#dirty` arrived (the clock's `now()`). */
  #dirtySince: number | undefined;
  #refreshing: Promise<void> | undefined;
  #closed = false;
  readonly clock: Clock;

  constructor(
    private readonly deps: {
      read: ReadReadiness;
      log: Logger;
      retryDelayMs?: number;
      /** Where wakes, failed reads and the close are reported. */
      events?: WaitingEvents;
      clock?: Clock;
      /** Past these, a new waiter is refused with 503 (docs/operations.md: MAX_WAITERS). */
      limits?: WaiterLimits;
    },
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  /** How many waiters are registered, over all identities. */
  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Registers a waiter. Register before reading the state: a change committed after that read
   * then reaches the waiter through its notification, and one committed before it is in the
   * read. After close, the waiter comes back already ended so it answers at once.
   *
   * Throws `service_unavailable` past the limits: each waiter holds a connection and memory, and
   * without a cap enough of them took the process off the network, webhooks and probes included.
   */
  register(identityId: string, owner?: string): Waiter {
    this.#admit(owner);
    const waiter = new Waiter(
      identityId,
      () => this.#remove(waiter),
      this.clock,
      owner,
      this.#readsStarted,
    );
    if (this.#closed) {
      waiter.end();
      return waiter;
    }
    this.#count(owner, 1);
    const waiters = this.#byIdentity.get(identityId) ?? new Set<Waiter>();
    waiters.add(waiter);
    this.#byIdentity.set(identityId, waiters);
    return waiter;
  }

  /**
   * Registers a follower of every deletion (`GET /v1/deletions/events`), under the same limits
   * as a waiter. While one is registered, every notification leads to a read.
   */
  watchAll(owner?: string): Feed {
    this.#admit(owner);
    const feed = new Feed(() => this.#removeFeed(feed), this.clock, owner);
    if (this.#closed) {
      feed.end();
      return feed;
    }
    this.#count(owner, 1);
    this.#feeds.add(feed);
    return feed;
  }

  /** The readiness of `identityId` may have changed (a NOTIFY arrived). */
  notify(identityId: string): void {
    if (!this.#byIdentity.has(identityId) && this.#feeds.size === 0) return;
    this.#dirtySince ??= this.clock.now();
    this.#dirty.add(identityId);
    this.#scheduleRefresh();
  }

  /**
   * Re-reads every waited-on identity. Call it after the listener (re)connects: notifications
   * sent while it was not listening are gone for good.
   */
  recheckAll(): void {
    for (const feed of this.#feeds) feed.resync();
    for (const identityId of this.#byIdentity.keys()) this.#dirty.add(identityId);
    this.#scheduleRefresh();
  }

  /** Shutdown: answers every waiter with its current state (best effort) and ends it. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refreshing;
    const identities = [...this.#byIdentity.keys()];
    let states = new Map<string, Readiness>();
    try {
      states = await this.#readChunked(identities);
    } catch (error) {
      this.deps.log.warn({ err: toError(error) }, "could not read waiters' state at close");
    }
    for (const [identityId, waiters] of this.#byIdentity) {
      const readiness = states.get(identityId);
      for (const waiter of waiters) {
        if (readiness !== undefined) waiter.deliver(readiness);
        waiter.end();
      }
    }
    for (const feed of this.#feeds) feed.end();
    this.deps.events?.emit("close");
  }

  /** The limit a new waiter of `owner` would be refused by now, if any; counts nothing. */
  capFor(owner: string | undefined): WaiterCap | undefined {
    const limits = this.deps.limits;
    if (limits === undefined || this.#closed) return undefined;
    if (this.#size >= limits.total) return "process";
    if (owner !== undefined && (this.#byOwner.get(owner) ?? 0) >= limits.perOwner) return "token";
    return undefined;
  }

  #admit(owner: string | undefined): void {
    const cap = this.capFor(owner);
    if (cap === undefined) return;
    this.deps.events?.emit("refuse", { cap });
    throw new AppError(
      "service_unavailable",
      cap === "process"
        ? "this process holds as many waiters as it may, retry later"
        : "this token holds as many waiters as it may, retry later",
    );
  }

  /** Counts a waiter or feed in (`1`) or out (`-1`), for the limits. */
  #count(owner: string | undefined, change: 1 | -1): void {
    this.#size += change;
    if (owner === undefined) return;
    const held = (this.#byOwner.get(owner) ?? 0) + change;
    if (held <= 0) this.#byOwner.delete(owner);
    else this.#byOwner.set(owner, held);
  }

  #removeFeed(feed: Feed): void {
    if (this.#feeds.delete(feed)) this.#count(feed.owner, -1);
  }

  #remove(waiter: Waiter): void {
    const waiters = this.#byIdentity.get(waiter.identityId);
    if (waiters === undefined || !waiters.delete(waiter)) return;
    this.#count(waiter.owner, -1);
    if (waiters.size === 0) {
      this.#byIdentity.delete(waiter.identityId);
      if (this.#feeds.size === 0) this.#dirty.delete(waiter.identityId);
    }
  }

  #scheduleRefresh(): void {
    if (this.#refreshing !== undefined || this.#closed) return;
    this.#refreshing = this.#refreshLoop().finally(() => {
      this.#refreshing = undefined;
      // A notification that arrived as the loop was finishing must not wait for the next one.
      if (this.#dirty.size > 0) this.#scheduleRefresh();
    });
  }

  async #refreshLoop(): Promise<void> {
    // One commit sends its notifications together; let them all arrive before reading.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#dirty.size > 0 && !this.#closed) {
      const identities = [...this.#dirty].filter(
        (id) => this.#byIdentity.has(id) || this.#feeds.size > 0,
      );
      const since = this.#dirtySince;
      this.#dirty.clear();
      this.#dirtySince = undefined;
      if (identities.length === 0) return;
      let states: Map<string, Readiness>;
      const read = ++this.#readsStarted;
      try {
        states = await this.#readChunked(identities);
      } catch (error) {
        // The change is committed and its notification consumed: read again after a pause,
        // or the waiters would sleep through it until their timeout.
        this.deps.log.warn({ err: toError(error) }, "waiter wake-up read failed, retrying");
        this.deps.events?.emit("wake:error", { error: toError(error), identityIds: identities });
        for (const identityId of identities) this.#dirty.add(identityId);
        this.#dirtySince ??= since;
        await new Promise<void>((resolve) =>
          this.clock.setTimer(resolve, this.deps.retryDelayMs ?? 500),
        );
        continue;
      }
      for (const [identityId, readiness] of states) {
        for (const waiter of this.#byIdentity.get(identityId) ?? []) {
          waiter.deliver(readiness, read);
        }
        for (const feed of this.#feeds) feed.deliver(readiness);
      }
      // Apart from the read: a subscriber that throws must not pass for a failed read (and
      // cause a re-read), nor end the loop.
      try {
        this.deps.events?.emit("wake", {
          identityIds: [...states.keys()],
          seconds: since === undefined ? undefined : (this.clock.now() - since) / 1000,
        });
      } catch (error) {
        this.deps.log.error({ err: toError(error) }, "a wake subscriber failed");
      }
    }
  }

  async #readChunked(identities: string[]): Promise<Map<string, Readiness>> {
    const chunks: string[][] = [];
    for (let i = 0; i < identities.length; i += MAX_IDS_PER_READ) {
      chunks.push(identities.slice(i, i + MAX_IDS_PER_READ));
    }
    const maps = await Promise.all(chunks.map((chunk) => this.deps.read(chunk)));
    return new Map(maps.flatMap((map) => [...map]));
  }
}
