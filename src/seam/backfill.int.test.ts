import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeSeam, startFakeSeam } from "../../test/helpers/fake-seam.js";
import { type HarnessWithService, startHarness } from "../../test/helpers/harness.js";
import { spawnChild } from "../../test/helpers/process.js";
import { countEvents, type Projection, readProjection } from "../../test/helpers/projection.js";
import { openEventsQueue } from "../../test/helpers/queue.js";
import { REDIS_URL, testPrefix } from "../../test/helpers/redis.js";
import {
  buildIdentityScenario,
  fixtureOf,
  type SeamEventJson,
} from "../../test/helpers/scenario.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { replay } from "../replay/replay.js";
import { createSeamApi } from "./api.js";
import { backfill } from "./backfill.js";

/** The projected tables with each event's `source` set aside: what delivery path it took. */
const withoutSource = (projection: Projection) => ({
  resources: projection.resources,
  events: projection.events.map(({ source: _source, ...event }) => event),
});

const projected = (harness: HarnessWithService, count: number) =>
  waitFor(
    async () => (await countEvents(harness.database.sql)) === count && harness.queue.drained(),
    { timeoutMs: 20_000, message: `${count} events projected` },
  );

const deliver = async (harness: HarnessWithService, events: SeamEventJson[]) => {
  const summary = await replay(fixtureOf(events), {
    url: harness.service.webhookUrl,
    secret: harness.secret,
  });
  expect(summary.accepted).toBe(events.length);
};

describe("backfill from the Seam API's /events/list", () => {
  // Three identities whose scenarios share their clock: three events at every instant, so
  // page edges fall between events of the same millisecond.
  const events = [1, 2, 3].flatMap(() => buildIdentityScenario().events);
  const times = events.map((event) => Date.parse(event.occurred_at));
  const since = new Date(Math.min(...times));
  const until = new Date(Math.max(...times) + 1000);
  const missed = new Set(events.slice(15, 45).map((event) => event.event_id));

  let seam: FakeSeam;
  let full: HarnessWithService;
  let gap: HarnessWithService;
  beforeAll(async () => {
    seam = await startFakeSeam();
    seam.setEvents(events);
    [full, gap] = [await startHarness(), await startHarness()];
    await deliver(full, events);
    await deliver(
      gap,
      events.filter((event) => !missed.has(event.event_id)),
    );
    await projected(full, events.length);
    await projected(gap, events.length - missed.size);
  });
  afterAll(async () => {
    await full?.close();
    await gap?.close();
    await seam?.close();
  });

  const api = () =>
    createSeamApi({ apiKey: seam.apiKey, endpoint: seam.url, baseDelayMs: 10, maxDelayMs: 50 });
  /** Backfills the whole interval into the service that missed webhooks. */
  const backfillGap = (options: Partial<Parameters<typeof backfill>[0]> = {}) =>
    backfill({ api: api(), db: gap.database.db, queue: gap.queue.queue, since, until, ...options });

  it("after a gap of missed webhooks, gives the same state as full delivery, through a 429 and a 500", async () => {
    seam.fault("/events/list", { status: 429, retryAfter: "0" }, { status: 500 });
    const before = seam.calls("/events/list").length;
    const progress: number[] = [];
    const summary = await backfillGap({
      limit: 7,
      onProgress: (step) => progress.push(step.covered),
    });
    expect(summary).toMatchObject({ seen: 60, new: 30, duplicates: 30, covered: 1 });
    // 60 events, 7 a request, the edge instant read twice: more than 9 pages, each counted once.
    expect(summary.pages).toBeGreaterThan(9);
    expect(seam.calls("/events/list").length - before).toBe(summary.pages + 2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    await projected(gap, events.length);
    const [expected, actual] = [
      await readProjection(full.database.sql),
      await readProjection(gap.database.sql),
    ];
    expect(withoutSource(actual)).toEqual(withoutSource(expected));
    expect(
      actual.events
        .filter((event) => event.source === "backfill")
        .map((event) => event.event_id)
        .sort(),
    ).toEqual([...missed].sort());
  });

  it("a second backfill finds only duplicates and changes nothing", async () => {
    const before = await readProjection(gap.database.sql);
    const summary = await backfillGap();
    expect(summary).toMatchObject({ seen: 60, new: 0, duplicates: 60, pages: 1 });
    expect(await readProjection(gap.database.sql)).toEqual(before);
  });

  it("with a filter, asks Seam for one ACS user's events and enqueues only those", async () => {
    const acsUserId = String(
      events.find((event) => event.event_type === "acs_user.created")?.acs_user_id,
    );
    const own = events.filter((event) => event.acs_user_id === acsUserId);
    const before = seam.calls("/events/list").length;
    const summary = await backfillGap({ filter: { acs_user_id: acsUserId } });
    expect(own.length).toBeGreaterThan(1);
    expect(own.length).toBeLessThan(events.length);
    expect(summary).toMatchObject({ seen: own.length, new: 0, duplicates: own.length, pages: 1 });
    const sent = seam.calls("/events/list").slice(before);
    expect(sent.map((request) => request.params.acs_user_id)).toEqual([acsUserId]);
  });

  it("stops with a clear error when more events share one instant than a page holds", async () => {
    const queue = openEventsQueue(testPrefix());
    try {
      await expect(backfillGap({ queue: queue.queue, limit: 2 })).rejects.toThrow(
        /more than 2 events at .*larger --limit/,
      );
    } finally {
      await queue.close();
    }
  });

  const runCli = (env: Record<string, string>) => {
    const cli = spawnChild(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "backfill",
        "--since",
        since.toISOString(),
        "--until",
        until.toISOString(),
      ],
      { env: { ...process.env, LOG_LEVEL: "silent", REDIS_URL, ...env } },
    );
    return cli.exited.then((code) => ({ code, output: cli.output() }));
  };

  it("the CLI follows a cursor where Seam gives one, and prints its summary", async () => {
    const paged = await startFakeSeam({ eventsPaging: "cursor", pageSize: 8 });
    const fresh = await startHarness();
    try {
      paged.setEvents(events);
      const { code, output } = await runCli({
        SEAM_API_KEY: paged.apiKey,
        SEAM_ENDPOINT: paged.url,
        DATABASE_URL: fresh.database.url,
        QUEUE_PREFIX: fresh.queue.queue.opts.prefix ?? "",
      });
      expect({ code, output }).toMatchObject({ code: 0 });
      expect(output).toContain("seen 60, new 60 (enqueued), duplicates 0 (already recorded)");
      expect(paged.calls("/events/list").filter((call) => call.params.page_cursor).length).toBe(7);
      await projected(fresh, events.length);
      expect(withoutSource(await readProjection(fresh.database.sql))).toEqual(
        withoutSource(await readProjection(full.database.sql)),
      );
    } finally {
      await fresh.close();
      await paged.close();
    }
  });

  it("the CLI stops at a 401 with a message that names SEAM_API_KEY", async () => {
    const { code, output } = await runCli({
      SEAM_API_KEY: "seam_not_this_workspace",
      SEAM_ENDPOINT: seam.url,
      DATABASE_URL: gap.database.url,
      QUEUE_PREFIX: testPrefix(),
    });
    expect(code).toBe(1);
    expect(output).toContain(
      "seam-projector: the Seam API rejected SEAM_API_KEY (401 on /events/list): set a valid workspace API key with read access",
    );
  });
});
