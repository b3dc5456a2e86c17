import { Presets, SingleBar } from "cli-progress";
import { Redis } from "ioredis";
import { ConfigError, loadConfig } from "../config.js";
import { createPool } from "../db/client.js";
import { createEventsQueue } from "../ingest/queue.js";
import { createSeamApi, type EventsFilter } from "./api.js";
import { backfill } from "./backfill.js";

/** `npm run cli -- backfill`: wires the backfill to the configured Seam, Postgres and Redis. */
export const runBackfill = async (command: {
  since: Date;
  until: Date;
  limit?: number;
  filter?: EventsFilter;
}): Promise<number> => {
  const config = loadConfig();
  if (config.seamApiKey === undefined) {
    throw new ConfigError("backfill needs SEAM_API_KEY (a workspace API key with read access)");
  }
  const api = createSeamApi({ apiKey: config.seamApiKey, endpoint: config.seamEndpoint });
  const sql = createPool(config.databaseUrl, { max: 2, applicationName: "seam-projector-cli" });
  // Not the producer's fail-fast client: a CLI may issue its first command before Redis is
  // connected, and should wait a little for it rather than fail at once.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3, connectTimeout: 5000 });
  const queue = createEventsQueue(redis, config.queuePrefix);
  const bar = new SingleBar(
    {
      format:
        "backfill [{bar}] {percentage}% | seen {seen} | new {new} | duplicates {duplicates} | pages {pages}",
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(100, 0, { seen: 0, new: 0, duplicates: 0, pages: 0 });
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once("SIGINT", onSigint);
  try {
    const summary = await backfill({
      api,
      db: sql,
      queue,
      since: command.since,
      until: command.until,
      ...(command.limit === undefined ? {} : { limit: command.limit }),
      ...(command.filter === undefined ? {} : { filter: command.filter }),
      signal: interrupt.signal,
      onProgress: (progress) => bar.update(Math.round(progress.covered * 100), progress),
    });
    bar.stop();
    process.stdout.write(
      `backfill ${command.since.toISOString()} to ${command.until.toISOString()}: ` +
        `seen ${summary.seen}, new ${summary.new} (enqueued), ` +
        `duplicates ${summary.duplicates} (already recorded), in ${summary.pages} requests\n`,
    );
    return 0;
  } finally {
    bar.stop();
    process.off("SIGINT", onSigint);
    await queue.close();
    redis.disconnect();
    await sql.end({ timeout: 5 });
  }
};
