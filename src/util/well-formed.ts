/** String.prototype.isWellFormed and toWellFormed (Node 20), which TypeScript's ES2023 lib lacks. */
type WellFormedText = { isWellFormed(): boolean; toWellFormed(): string };

/** False when the text holds a lone surrogate (half of a UTF-16 pair, which UTF-8 cannot hold). */
export const isWellFormed = (text: string): boolean =>
  (text as unknown as WellFormedText).isWellFormed();

/**
 * The text with each lone surrogate replaced by U+FFFD, as writing it as UTF-8 would do; the
 * same string when there is none. A JSON parameter carries a lone surrogate as a `\ud800`
 * escape, which Postgres's json refuses: the whole statement fails, where UTF-8 text would have
 * stored U+FFFD.
 */
export const wellFormed = (text: string): string =>
  isWellFormed(text) ? text : (text as unknown as WellFormedText).toWellFormed();
