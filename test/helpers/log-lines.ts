import { Writable } from "node:stream";

/**
 * A log destination for createLogger that keeps every line written to it, as a log collector
 * would read them; `onLine` hears each one as it arrives.
 */
export const collectLogLines = (onLine?: (line: string) => void) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) {
        if (line === "") continue;
        lines.push(line);
        onLine?.(line);
      }
      done();
    },
  });
  return { lines, sink };
};
