import { readFile } from "node:fs/promises";
import { toError } from "../errors.js";

/** One line of a fixture: the body is the line's exact text, so it is signed as Seam sent it. */
export type FixtureEvent = { line: number; eventId: string; body: string };

export class FixtureError extends Error {
  override name = "FixtureError";
}

/**
 * Reads JSON Lines (README.md): one Seam event object a line; blank lines are skipped. Only
 * what a delivery needs is checked here (an object with a string `event_id`); the ingress and
 * the projector judge the rest, so a fixture may hold deliberately broken events.
 */
export const parseFixture = (text: string, source = "fixture"): FixtureEvent[] => {
  const events: FixtureEvent[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const line = index + 1;
    const body = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (body.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      const reason = toError(error).message;
      throw new FixtureError(`${source}:${line}: not valid JSON (${reason})`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new FixtureError(`${source}:${line}: expected a JSON object, one event a line`);
    }
    const eventId = (json as Record<string, unknown>).event_id;
    if (typeof eventId !== "string" || eventId === "") {
      throw new FixtureError(`${source}:${line}: event_id must be a non-empty string`);
    }
    events.push({ line, eventId, body });
  });
  if (events.length === 0) throw new FixtureError(`${source}: no events`);
  return events;
};

export const readFixture = async (path: string): Promise<FixtureEvent[]> => {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FixtureError(`${path}: cannot read (${code ?? String(error)})`);
  }
  return parseFixture(text, path);
};
