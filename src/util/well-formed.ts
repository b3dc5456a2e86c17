/**
 * The text with each lone surrogate (half of a UTF-16 pair, which no UTF-8 text can hold)
 * replaced by U+FFFD, as writing it as UTF-8 would do; the same string when there is none.
 * A JSON parameter carries a lone surrogate as a `\ud800` escape, which Postgres's json refuses:
 * the whole statement fails, where UTF-8 text would have stored U+FFFD.
 */
export const wellFormed = (text: string): string => {
  const native = text as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return native.isWellFormed() ? text : native.toWellFormed();
};
