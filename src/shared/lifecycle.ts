/** One part's shutdown; absent for a part this process does not run. */
export type CloseStep = (() => Promise<unknown> | unknown) | undefined;

/**
 * Runs every step in order, each one even when a step before it failed (a Redis that does not
 * answer must not leave the pool open), then throws what failed: the error itself, or an
 * AggregateError of all of them.
 */
export const closeInOrder = async (steps: CloseStep[]): Promise<void> => {
  const failures: unknown[] = [];
  for (const step of steps) {
    if (step === undefined) continue;
    // Through a promise, so a step that throws synchronously is caught the same way.
    const [outcome] = await Promise.allSettled([Promise.resolve().then(step)]);
    if (outcome?.status === "rejected") failures.push(outcome.reason);
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, `${failures.length} parts failed to close`);
};
