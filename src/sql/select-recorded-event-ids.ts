import { sql } from "drizzle-orm";
import { arrayParam, type Db, runPrepared } from "../db/client.js";

/** Of these event ids, those the events table holds. */
export const selectRecordedEventIds = (db: Db, eventIds: string[]) =>
  runPrepared<{ event_id: string }>(
    db,
    sql`select event_id from events where event_id = any(${arrayParam(eventIds)}::text[])`,
  );
