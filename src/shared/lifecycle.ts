/** One part's shutdown, by the name a stuck shutdown reports; absent for a part not run here. */
export type CloseStep = readonly [
  name: string,
  close: (() => Promise<unknown> | unknown) | undefined,
];

/** Told the name of each part as its close begins (nested parts as `outer: inner`). */
export type OnClosing = (part: string) => void;

/** The OnClosing of a part's own steps: their names under the part's. */
export const within = (part: string, onClosing: OnClosing | undefined): OnClosing | undefined =>
  onClosing && ((inner) => onClosing(`${part}: ${inner}`));

/**
 * Runs every step in order, each one even when a step before it failed (a Redis that does not
 * answer must not leave the pool open), then throws what failed: the error itself, or an
 * AggregateError of all of them. `onClosing` hears each step's name as it begins, so a
 * shutdown that does not end can say which part it is waiting for.
 */
export const closeInOrder = async (steps: CloseStep[], onClosing?: OnClosing): Promise<void> => {
  const failures: unknown[] = [];
  for (const [name, step] of steps) {
    if (step === undefined) continue;
    onClosing?.(name);
    // Through a promise, so a step that throws synchronously is caught the same way.
    const [outcome] = await Promise.allSettled([Promise.resolve().then(step)]);
    if (outcome?.status === "rejected") failures.push(outcome.reason);
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, `${failures.length} parts failed to close`);
};
