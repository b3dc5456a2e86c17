import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/errors.js";
import { type Service, useHarness } from "../helpers/harness.js";
import {
  chunked,
  contentTypes,
  expectDocumentedAnswer,
  headerLine,
  headerValueBytes,
  requestHead,
  short,
  TRANSPORT_CODES,
} from "../helpers/hostile.js";
import { type RawResponse, rawExchange } from "../helpers/raw-http.js";
import { deletionEvent, TEST_TOKEN } from "../helpers/readiness.js";
import { waitFor } from "../helpers/wait-for.js";

/** Every `/v1` route of CONTRACT §5, and the codes it documents. */
const ROUTES = [
  { method: "GET", suffix: "readiness", codes: [] },
  { method: "PUT", suffix: "resources", codes: ["conflict", "payload_too_large"] },
  { method: "POST", suffix: "deletion", codes: ["conflict", "payload_too_large"] },
  { method: "GET", suffix: "deletion", codes: [] },
  { method: "GET", suffix: "deletion/events", codes: [] },
  { method: "DELETE", suffix: "deletion", codes: [] },
] as const;
const V1_CODES = ["unauthorized", ...TRANSPORT_CODES] as const satisfies ErrorCode[];
const codesOf = (route: (typeof ROUTES)[number]): ErrorCode[] => [...V1_CODES, ...route.codes];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LINK_FIELDS = [
  "acs_user_ids",
  "acs_credential_ids",
  "enrollment_automation_ids",
  "phone_ids",
  "client_session_ids",
];
const RUNS = { numRuns: 150 };
/** CONTRACT §5: a /v1 body over 1 MiB is a 413, whatever it holds. */
const BODY_LIMIT = 1024 * 1024;

/** `{"<field>":[0,0,…]}` with `count` zeros: the list that once took 11 s and 2.9 GB. */
const zeros = (field: string, count: number) =>
  short(Buffer.from(`{"${field}":[${"0,".repeat(count - 1)}0]}`), `${field}: ${count} zeros`);

const bodyOf = (response: RawResponse) =>
  JSON.parse(response.body.toString("utf8")) as { error: { code: string; field?: string } };

describe("hostile input to every /v1 route", () => {
  const harness = useHarness();
  let api: Service;
  let host: string;
  const bearer = `Bearer ${TEST_TOKEN}`;
  /** An identity whose deletion is ready: a long-poll on it answers at once, whatever `wait`. */
  const readyIdentity = randomUUID();
  /** An identity with a pending deletion: its SSE stream stays open. */
  const pendingIdentity = randomUUID();
  /** A resource linked to `pendingIdentity`: linking it to another identity is a 409. */
  const takenPhone = randomUUID();

  beforeAll(async () => {
    api = harness().service;
    host = new URL(api.url).host;
    expect((await api.requestDeletion(readyIdentity)).status).toBe(201);
    expect((await api.requestDeletion(pendingIdentity, { phone_ids: [takenPhone] })).status).toBe(
      201,
    );
  });

  const send = (
    method: string,
    target: string | Buffer,
    lines: Buffer[],
    options: { body?: Buffer; framing?: "length" | "chunked"; cuts?: number[] } = {},
  ) => {
    const body = options.body;
    const framing =
      body === undefined
        ? []
        : options.framing === "chunked"
          ? [headerLine("Transfer-Encoding", "chunked")]
          : [headerLine("Content-Length", String(body.length))];
    const head = requestHead(method, target, [...lines, ...framing], host);
    const payload =
      body === undefined
        ? []
        : [options.framing === "chunked" ? chunked(body, options.cuts ?? []) : body];
    return rawExchange(api.url, { parts: [Buffer.concat([head, ...payload])] });
  };

  it("answers 401 on every route unless one Authorization header holds a token", async () => {
    const VALID = [bearer, `bearer ${TEST_TOKEN}`, `BEARER \t${TEST_TOKEN} `];
    const authorization = fc.oneof(
      fc.constantFrom(...VALID),
      fc.constantFrom(
        "Bearer",
        "Bearer ",
        `Bearer ${TEST_TOKEN}x`,
        `Bearer ${TEST_TOKEN.slice(0, -1)}`,
        `Bearer ${TEST_TOKEN} ${TEST_TOKEN}`,
        `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString("base64")}`,
        TEST_TOKEN,
        `Bearer ${TEST_TOKEN.toUpperCase()}`,
        `Bearer\u00a0${TEST_TOKEN}`,
      ),
      headerValueBytes,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.array(
          fc.tuple(
            fc.constantFrom("Authorization", "authorization", "AUTHORIZATION"),
            authorization,
          ),
          {
            maxLength: 3,
          },
        ),
        async (route, headers) => {
          // An identity nothing is known about: every route answers at once.
          const target = `/v1/user_identities/${randomUUID()}/${route.suffix}`;
          const lines = headers.map(([name, value]) => headerLine(name, value));
          const response = await send(route.method, target, lines);
          const context = `${route.method} ${target} ${JSON.stringify(headers.map(([n, v]) => [n, String(v).slice(0, 80)]))}`;
          const code = expectDocumentedAnswer(response, codesOf(route), context);
          // A header value node's parser refuses (a control character, too large) is a 400/431
          // for the whole request, before any route: never a 2xx either.
          if (code === "invalid_request" && bodyOf(response).error.field === undefined) return;
          // Two Authorization headers reach Hono joined by ", ": never a token, so a 401.
          const only = headers.length === 1 ? headers[0]?.[1] : undefined;
          const valid = typeof only === "string" && VALID.includes(only);
          if (valid) expect(code, context).not.toBe("unauthorized");
          else {
            expect(
              code,
              `${context} → ${response.status} ${response.body.toString().slice(0, 200)}`,
            ).toBe("unauthorized");
            expect(response.headers["www-authenticate"], context).toMatch(/^Bearer /);
          }
        },
      ),
      RUNS,
    );
  });

  it("answers any path id on every route: a UUID is served, anything else is a 400 or 404", async () => {
    const encode = (text: string) => encodeURIComponent(text);
    const ids = fc.oneof(
      fc.uuid().map((id) => ({ raw: id, plain: true })),
      fc.uuid().map((id) => ({ raw: id.toUpperCase(), plain: true })),
      fc.uuid().map((id) => ({ raw: `${id}x`, plain: true })),
      fc.constant({ raw: pendingIdentity, plain: true }),
      fc.constant({ raw: readyIdentity, plain: true }),
      fc.stringMatching(/^[A-Za-z0-9_~-]{1,80}$/).map((raw) => ({ raw, plain: true })),
      fc
        .string({ unit: "grapheme", maxLength: 40 })
        .map((text) => ({ raw: encode(text), plain: false })),
      fc.uuid().map((id) => ({ raw: encode(encode(id)), plain: false })),
      fc.uuid().map((id) => ({
        raw: [...id].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(""),
        plain: false,
      })),
      fc
        .constantFrom(
          "..",
          ".",
          "%2e%2e",
          "%2F",
          "a%2Fb",
          "%",
          "%zz",
          "%E0%A4%A",
          "%00",
          "%C0%AF",
          "%uD800",
          "..%2F..%2Fetc%2Fpasswd",
          "null",
          "undefined",
          "00000000-0000-0000-0000-000000000000",
          "{user_identity_id}",
          ";",
          "a;b=c",
        )
        .map((raw) => ({ raw, plain: false })),
      fc
        .integer({ min: 100, max: 20_000 })
        .map((length) => ({ raw: "a".repeat(length), plain: length < 8000 })),
    );
    // Raw UTF-8 and Latin-1 bytes in the request target, as no client library would send them.
    const rawBytes = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 10 })
      .chain((text) => fc.constantFrom(Buffer.from(text, "utf8"), Buffer.from(text, "latin1")));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.oneof(
          { weight: 5, arbitrary: ids },
          rawBytes.map((bytes) => ({ bytes })),
        ),
        async (route, fixedId) => {
          // A cancel would take the deletions of the fixed identities away from the tests below.
          const fixed =
            "raw" in fixedId &&
            ([readyIdentity, pendingIdentity] as string[]).includes(fixedId.raw);
          const id =
            route.method === "DELETE" && fixed ? { raw: randomUUID(), plain: true } : fixedId;
          const prefix = Buffer.from("/v1/user_identities/");
          const suffix = Buffer.from(`/${route.suffix}`);
          const target =
            "bytes" in id
              ? Buffer.concat([prefix, id.bytes, suffix])
              : Buffer.concat([prefix, Buffer.from(id.raw, "latin1"), suffix]);
          const body = route.method === "PUT" ? Buffer.from("{}") : undefined;
          const lines = [headerLine("Authorization", bearer)];
          if (body) lines.push(headerLine("Content-Type", "application/json"));
          const response = await send(route.method, target, lines, body ? { body } : {});
          const context = `${route.method} ${target.toString("latin1").slice(0, 200)}`;
          const code = expectDocumentedAnswer(response, codesOf(route), context);
          if ("bytes" in id || !id.plain) return;
          // A plain id (no `/`, `.`, `%`): a UUID is served, anything else names the field.
          if (UUID.test(id.raw)) {
            expect(["not_found", undefined], context).toContain(code);
          } else {
            expect(code, context).toBe("invalid_request");
            expect(bodyOf(response).error.field, context).toBe("user_identity_id");
          }
        },
      ),
      RUNS,
    );
  });

  it("answers 200 to a long-poll with one whole-number wait and a 400 naming wait otherwise", async () => {
    const waitValue = fc.oneof(
      fc.nat().map(String),
      fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
      fc.integer().map(String),
      fc.double().map(String),
      fc.constantFrom(
        "",
        "-0",
        "+1",
        " 1",
        "1 ",
        "0x10",
        "1e3",
        "1_000",
        "١",
        "%31",
        "%",
        "%zz",
        "Infinity",
        "NaN",
        "0060",
        "1%00",
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      fc.string({ unit: "grapheme", maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(waitValue, { maxLength: 3 }),
        fc.dictionary(
          fc.stringMatching(/^[a-z]{1,6}$/),
          fc.string({ maxLength: 6 }).map(encodeURIComponent),
          {
            maxKeys: 2,
          },
        ),
        async (waits, others) => {
          const pairs = [
            ...waits.map((value) => `wait=${value}`),
            ...Object.entries(others)
              .filter(([key]) => key !== "wait")
              .map(([key, value]) => `${key}=${value}`),
          ];
          // Whitespace and control characters would end the request target: send them encoded.
          const query = pairs.join("&").replace(/[\s\p{Cc}]/gu, (char) => encodeURIComponent(char));
          const target = Buffer.from(
            `/v1/user_identities/${readyIdentity}/deletion?${query}`,
            "utf8",
          );
          const response = await send("GET", target, [headerLine("Authorization", bearer)]);
          const context = `GET ${target.toString("utf8")}`;
          const code = expectDocumentedAnswer(response, codesOf(ROUTES[3]), context);
          if (code === "invalid_request" && bodyOf(response).error.field === undefined) return; // parser refused the target
          const values = new URLSearchParams(query).getAll("wait");
          const whole = values.length === 1 && /^\d+$/.test(values[0] ?? "");
          if (values.length === 0 || whole) {
            expect(response.status, context).toBe(200);
            expect(JSON.parse(response.body.toString()).deletion.status, context).toBe("ready");
          } else {
            expect(code, context).toBe("invalid_request");
            expect(bodyOf(response).error.field, context).toBe("wait");
          }
        },
      ),
      RUNS,
    );
  });

  it("answers any body to PUT …/resources and POST …/deletion with 2xx, 400 or 409", async () => {
    const idList = fc.oneof(
      fc.array(fc.uuid(), { maxLength: 3 }),
      fc.array(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.jsonValue()), { maxLength: 3 }),
      fc.constant([takenPhone]),
      fc.jsonValue(),
      fc
        .integer({ min: 1000, max: 1002 })
        .map((count) => Array.from({ length: count }, () => randomUUID())),
    );
    const links = fc
      .dictionary(fc.oneof(fc.constantFrom(...LINK_FIELDS), fc.string({ maxLength: 12 })), idList, {
        maxKeys: 3,
      })
      .map((value) =>
        short(Buffer.from(JSON.stringify(value)), JSON.stringify(value).slice(0, 200)),
      );
    const bodies = fc.oneof(
      links,
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? "null")),
      fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(
        Buffer.from('{"phone_ids":["'),
        Buffer.from('{"phone_ids":[]}{"phone_ids":[]}'),
        Buffer.from('{"phone_ids":[],"phone_ids":"x"}'),
        Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
        Buffer.from('{"__proto__":{"phone_ids":[]}}'),
        Buffer.from(`{"phone_ids":${"[".repeat(5000)}${"]".repeat(5000)}}`),
      ),
      // Far past 1,000 ids but under the body limit: refused by the list's length, at once.
      fc
        .tuple(fc.constantFrom(...LINK_FIELDS), fc.integer({ min: 1001, max: 400_000 }))
        .map(([field, count]) => zeros(field, count)),
      // Past the body limit, by a byte or by a lot: 413, read no further.
      fc
        .tuple(fc.constantFrom(...LINK_FIELDS), fc.integer({ min: 1, max: 300_000 }))
        .map(([field, extra]) => zeros(field, BODY_LIMIT / 2 + extra)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(ROUTES[1], ROUTES[2]),
        bodies,
        contentTypes,
        fc.constantFrom<"length" | "chunked">("length", "chunked"),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (route, body, contentType, framing, cuts) => {
          const target = `/v1/user_identities/${randomUUID()}/${route.suffix}`;
          const lines = [headerLine("Authorization", bearer)];
          if (contentType !== undefined) lines.push(headerLine("Content-Type", contentType));
          const response = await send(route.method, target, lines, { body, framing, cuts });
          const context = `${route.method} ${contentType} ${framing} ${body.toString("utf8").slice(0, 200)}`;
          const code = expectDocumentedAnswer(response, codesOf(route), context);
          if (body.length > BODY_LIMIT) {
            // Declared too large, or counted as it comes when sent as JSON in UTF-8; a chunked
            // body of another type or charset is refused for it before a byte is read (a 400).
            const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? "")?.[1];
            const counted =
              framing === "length" ||
              (/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType ?? "") &&
                (charset === undefined || /^utf-?8$/i.test(charset)));
            if (counted) expect(code, context).toBe("payload_too_large");
            else expect(["payload_too_large", "invalid_request"], context).toContain(code);
            return;
          }
          expect(code, context).not.toBe("payload_too_large");
          if (body.length === 0) return;
          if (!/^application\/json(; charset=utf-8)?$/.test(contentType ?? "")) {
            // Anything but JSON with a JSON content type is never taken as JSON.
            if (!/json/i.test(contentType ?? "")) expect(code, context).toBe("invalid_request");
            return;
          }
          let json: unknown;
          try {
            // Decoded as fetch's Request.json() does: WHATWG UTF-8, which drops a leading BOM.
            json = JSON.parse(new TextDecoder().decode(body));
          } catch {
            expect(code, context).toBe("invalid_request");
            return;
          }
          const validLinks =
            typeof json === "object" &&
            json !== null &&
            !Array.isArray(json) &&
            Object.entries(json).every(
              ([key, ids]) =>
                LINK_FIELDS.includes(key) &&
                Array.isArray(ids) &&
                ids.length <= 1000 &&
                ids.every((id) => typeof id === "string" && UUID.test(id)),
            );
          if (!validLinks) expect(code, context).toBe("invalid_request");
          else if ((json as { phone_ids?: string[] }).phone_ids?.includes(takenPhone)) {
            expect(code, context).toBe("conflict");
            expect(bodyOf(response).error.field, context).toBe("phone_ids");
          } else if (code !== "conflict") {
            // fast-check repeats UUIDs across runs, so a resource may be linked already (409).
            expect(response.status, context).toBe(route.method === "PUT" ? 200 : 201);
          }
        },
      ),
      RUNS,
    );
  });

  it("answers other methods and protocol oddities on /v1 paths with the envelope", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"),
        fc.subarray([
          ["Upgrade", "websocket"],
          ["Connection", "Upgrade"],
          ["Expect", "100-continue"],
          ["Expect", "nothing"],
          ["Transfer-Encoding", "gzip, chunked"],
          ["Content-Length", "0"],
          ["X-HTTP-Method-Override", "DELETE"],
        ] as [string, string][]),
        async (route, method, extras) => {
          const target = `/v1/user_identities/${randomUUID()}/${route.suffix}`;
          const lines = [
            headerLine("Authorization", bearer),
            ...extras.map(([n, v]) => headerLine(n, v)),
          ];
          const response = await send(method, target, lines);
          const context = `${method} ${target} ${JSON.stringify(extras)}`;
          const code = expectDocumentedAnswer(response, [...V1_CODES, "conflict"], context);
          // A method a route does not have is no route at all: 404, never that route's answer.
          if (method !== route.method && code !== "invalid_request") {
            const other = ROUTES.some((r) => r.method === method && r.suffix === route.suffix);
            if (!other) expect(code, context).toBe("not_found");
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("still serves, takes a signed webhook, and holds no waiter after all of the above", async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const readiness = await api.readiness(pendingIdentity);
    expect(readiness.deletion?.status).toBe("pending");
    expect(readiness.blockers).toEqual([{ type: "phone", id: takenPhone }]);
    // The last blocker's deletion event still goes through and makes the identity ready.
    expect((await api.sendEvent(deletionEvent("phone", takenPhone))).status).toBe(202);
    await waitFor(async () => (await api.readiness(pendingIdentity)).ready);
    // Every SSE stream the properties opened and dropped has let go of its waiter.
    await waitFor(() => api.waiters.size === 0, { message: "no waiter left" });
  });
});
