import type { Clock } from "./clock.js";

/**
 * What the registry holds for a waiting request, a waiter or a feed: it is ended at shutdown,
 * woken when something is delivered, and leaves the registry on `release`.
 */
export abstract class Held {
  #ended = false;
  #wake: (() => void) | undefined;
  #released = false;

  constructor(
    /** Takes it out of the registry; called once, by the first `release`. */
    private readonly onRelease: () => void,
    /** The registry's clock, which times this waiter's waits. */
    readonly clock: Clock,
    /** Whose share of the limits it takes (a token); undefined for none. */
    readonly owner?: string,
  ) {}

  /** True once the registry closed (shutdown): the waiter must answer with what it has. */
  get ended(): boolean {
    return this.#ended;
  }

  end(): void {
    this.#ended = true;
    this.wake();
  }

  /** Leaves the registry; call it in `finally`. Calling it twice is harmless. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.wake();
    this.onRelease();
  }

  /** Ends a `sleep` under way: something was delivered. */
  protected wake(): void {
    this.#wake?.();
  }

  /**
   * Unless `delivered` or ended, sleeps until woken, `signal` aborts or `timeoutMs` passes.
   * Waiting is a timer and a callback: nothing is read from the database here.
   */
  protected sleep(delivered: boolean, signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (delivered || this.#ended || signal.aborted || timeoutMs <= 0) return Promise.resolve();
    // Not an async function: a suspended one keeps its frame for the whole wait, on top of the
    // promise (one of three such frames a long-poll held, about 1 KB of them in all).
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimer();
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      const clearTimer = this.clock.setTimer(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }
}
