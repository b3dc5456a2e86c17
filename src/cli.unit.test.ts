import { describe, expect, test } from "vitest";
import { DEFAULT_URL, parseCommand, UsageError } from "./cli.js";
import { LOCAL_WEBHOOK_SECRET } from "./config.js";

const secret = "whsec_dGVzdC1zZWNyZXQtZm9yLWNsaQ==";

describe("parseCommand", () => {
  test("replay with no options: the local URL and the local secret", () => {
    expect(parseCommand(["replay", "f.jsonl"])).toEqual({
      kind: "replay",
      file: "f.jsonl",
      options: { url: DEFAULT_URL, secret: LOCAL_WEBHOOK_SECRET, shuffle: false },
    });
  });

  test("replay with every option", () => {
    expect(
      parseCommand([
        "replay",
        "f.jsonl",
        "--url",
        "https://example.test/webhooks/seam",
        "--secret",
        secret,
        "--shuffle",
        "--duplicate",
        "3",
        "--rate",
        "12.5",
        "--concurrency",
        "4",
      ]),
    ).toEqual({
      kind: "replay",
      file: "f.jsonl",
      options: {
        url: "https://example.test/webhooks/seam",
        secret,
        shuffle: true,
        duplicate: 3,
        rate: 12.5,
        concurrency: 4,
      },
    });
  });

  test("--seed implies --shuffle", () => {
    expect(parseCommand(["replay", "f.jsonl", "--seed", "42"])).toMatchObject({
      options: { shuffle: true, seed: 42 },
    });
  });

  test("migrate and help", () => {
    expect(parseCommand(["migrate"])).toEqual({ kind: "migrate" });
    expect(parseCommand([])).toEqual({ kind: "help" });
    expect(parseCommand(["--help"])).toEqual({ kind: "help" });
  });

  test.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["replay"], "replay needs a fixture file"],
    [["replay", "a.jsonl", "b.jsonl"], "replay takes one fixture file"],
    [
      ["replay", "f.jsonl", "--duplicate", "0"],
      '--duplicate must be a positive whole number, not "0"',
    ],
    [
      ["replay", "f.jsonl", "--duplicate", "1.5"],
      '--duplicate must be a positive whole number, not "1.5"',
    ],
    [["replay", "f.jsonl", "--rate", "fast"], '--rate must be a positive number, not "fast"'],
    [
      ["replay", "f.jsonl", "--concurrency", ""],
      '--concurrency must be a positive whole number, not ""',
    ],
    [["replay", "f.jsonl", "--seed", "x"], '--seed must be a whole number, not "x"'],
    [["replay", "f.jsonl", "--url", "not a url"], '--url is not a URL: "not a url"'],
    [["replay", "f.jsonl", "--url", "ftp://host/x"], '--url must be http or https, not "ftp:"'],
    [["replay", "f.jsonl", "--secret", "hunter2"], "--secret must be a whsec_<base64> secret"],
    [["migrate", "now"], 'migrate takes no arguments, got "now"'],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(new UsageError(message));
  });

  test("an unknown option or a missing value is refused in parseArgs' words", () => {
    expect(() => parseCommand(["replay", "f.jsonl", "--shufle"])).toThrow(UsageError);
    expect(() => parseCommand(["replay", "f.jsonl", "--rate"])).toThrow(/--rate/);
  });
});

describe("parseCommand backfill", () => {
  const now = new Date("2026-11-28T12:00:00.000Z");

  test("reads ISO times and spans before now; --until defaults to now", () => {
    expect(parseCommand(["backfill", "--since", "6h"], now)).toEqual({
      kind: "backfill",
      since: new Date("2026-11-28T06:00:00.000Z"),
      until: now,
    });
    expect(
      parseCommand(
        ["backfill", "--since", "2026-11-27T00:00:00Z", "--until", "90m", "--limit", "200"],
        now,
      ),
    ).toEqual({
      kind: "backfill",
      since: new Date("2026-11-27T00:00:00.000Z"),
      until: new Date("2026-11-28T10:30:00.000Z"),
      limit: 200,
    });
  });

  test("--user-identity, --acs-user and --acs-credential become /events/list filters", () => {
    const id = "6e4cd3b5-0c9e-4a37-9a3b-3f2f0f1d2c11";
    expect(parseCommand(["backfill", "--since", "1h", "--acs-user", id], now)).toEqual({
      kind: "backfill",
      since: new Date("2026-11-28T11:00:00.000Z"),
      until: now,
      filter: { acs_user_id: id },
    });
    expect(
      parseCommand(
        ["backfill", "--since", "1h", "--user-identity", id, "--acs-credential", id],
        now,
      ),
    ).toMatchObject({ filter: { user_identity_id: id, acs_credential_id: id } });
  });

  test.each([
    [["backfill"], "backfill needs --since"],
    [
      ["backfill", "--since", "yesterday"],
      '--since must be an ISO 8601 time or a span like 6h, not "yesterday"',
    ],
    [["backfill", "--since", "1h", "--until", "2h"], "--since must be before --until"],
    [
      ["backfill", "--since", "1h", "--limit", "0"],
      '--limit must be a positive whole number, not "0"',
    ],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseCommand(argv, now)).toThrow(new UsageError(message));
  });
});
