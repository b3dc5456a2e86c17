import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/errors.js";
import { signBody } from "../../src/replay/sign.js";
import { type Service, useHarness } from "../helpers/harness.js";
import {
  anyCase,
  chunked,
  contentTypes,
  expectDocumentedAnswer,
  headerLine,
  headerValueBytes,
  requestHead,
  TRANSPORT_CODES,
} from "../helpers/hostile.js";
import { rawExchange } from "../helpers/raw-http.js";
import { deletionEvent } from "../helpers/readiness.js";
import { signRawBody } from "../helpers/sign-bytes.js";

/** The service's default WEBHOOK_BODY_LIMIT_BYTES (CONTRACT §3: 256 KiB). */
const LIMIT = 256 * 1024;
const WEBHOOK_CODES = [
  "invalid_signature",
  "invalid_payload",
  "payload_too_large",
  ...TRANSPORT_CODES,
] as const satisfies ErrorCode[];

const validEvent = (extra: Record<string, unknown> = {}) => ({
  ...deletionEvent("acs_credential", randomUUID()),
  ...extra,
});

/** An id the service can store (CONTRACT §3): 1 to 255 characters, no NUL. */
const isStorableId = (value: unknown) =>
  typeof value === "string" && value !== "" && value.length <= 255 && !value.includes("\u0000");

/**
 * An `occurred_at` in the years 2000-2200. Sound, not complete: only the canonical
 * `toISOString` form counts, which is what validEvent sends and no fuzzed value is.
 */
const isInstant = (value: unknown) => {
  if (typeof value !== "string") return false;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= 2000 && year <= 2200;
};

/** The envelope rule of CONTRACT §3, written again here as the test's oracle. */
const isEnvelope = (bytes: Buffer) => {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return false;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return false;
  const record = json as Record<string, unknown>;
  return (
    ["event_id", "event_type", "workspace_id"].every((field) => isStorableId(record[field])) &&
    isInstant(record.occurred_at)
  );
};

const RUNS = { numRuns: 150 };

describe("hostile input to POST /webhooks/seam", () => {
  const harness = useHarness();
  let api: Service;
  let host: string;
  beforeAll(async () => {
    api = harness().service;
    host = new URL(api.url).host;
  });

  const post = (lines: Buffer[], body: Buffer, options: { chunks?: number[] } = {}) => {
    const framing = options.chunks
      ? headerLine("Transfer-Encoding", "chunked")
      : headerLine("Content-Length", String(body.length));
    const head = requestHead("POST", "/webhooks/seam", [...lines, framing], host);
    const payload = options.chunks ? chunked(body, options.chunks) : body;
    return rawExchange(api.url, { parts: [Buffer.concat([head, payload])] });
  };

  it("answers random svix/webhook header sets with 401 unless one carries the signature", async () => {
    const names = ["svix-id", "svix-timestamp", "svix-signature"].flatMap((name) => [
      name,
      name.replace("svix-", "webhook-"),
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom(...names).chain(anyCase),
            // Most values are a real one of this request, so some requests verify.
            fc.oneof(
              { weight: 3, arbitrary: fc.constant<"real">("real") },
              { weight: 2, arbitrary: headerValueBytes },
            ),
          ),
          { maxLength: 8 },
        ),
        contentTypes,
        // Encodings and expectations the route does not speak: the signature still decides.
        fc.array(
          fc.tuple(
            fc.constantFrom("Content-Encoding", "Expect", "Transfer-Encoding", "Accept-Charset"),
            fc.constantFrom("gzip", "br", "identity", "100-continue", "200-ok", "utf-16", "x"),
          ),
          { maxLength: 2 },
        ),
        async (headers, contentType, extras) => {
          const body = Buffer.from(JSON.stringify(validEvent()));
          const real = signBody(api.secret, body.toString());
          const realOf = (name: string) =>
            real[name.toLowerCase().replace("webhook-", "svix-") as keyof typeof real];
          const lines = headers.map(([name, value]) =>
            headerLine(name, value === "real" ? realOf(name) : value),
          );
          if (contentType !== undefined) lines.push(headerLine("Content-Type", contentType));
          for (const [name, value] of extras) lines.push(headerLine(name, value));
          const response = await post(lines, body);
          const context = `headers ${JSON.stringify([...headers, ...extras].map(([n, v]) => [n, String(v).slice(0, 60)]))}`;
          const code = expectDocumentedAnswer(response, WEBHOOK_CODES, context);
          // Soundness: no request without the real signature in some signature header is taken.
          const signed = headers.some(
            ([name, value]) => value === "real" && name.toLowerCase().endsWith("-signature"),
          );
          if (!signed) expect(code, context).toBeDefined();
          if (response.status === 202)
            expect(JSON.parse(response.body.toString())).toEqual({ ok: true });
        },
      ),
      RUNS,
    );
  });

  it("answers any signed body with 202 if it is a Seam envelope, else 400 invalid_payload", async () => {
    const weird = fc.oneof(
      fc.jsonValue(),
      fc.string({ unit: "grapheme", maxLength: 200 }),
      fc.integer({ min: 1, max: 200_000 }).map((length) => "é".repeat(length / 2)),
      fc.array(fc.jsonValue(), { maxLength: 5 }),
    );
    const envelopeField = fc.constantFrom("event_id", "event_type", "workspace_id", "occurred_at");
    const bodies = fc.oneof(
      // Random bytes, usually not UTF-8 at all.
      fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
      // Invalid UTF-8 around valid JSON.
      fc.constantFrom(
        Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
        Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
        Buffer.from([0xed, 0xa0, 0x80]),
      ),
      // Any JSON at all.
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? "null")),
      // A Seam envelope with weird extra fields: nested, huge, unicode.
      fc
        .dictionary(fc.string({ unit: "grapheme", maxLength: 10 }), weird, { maxKeys: 5 })
        .map((extra) => Buffer.from(JSON.stringify({ ...extra, ...validEvent() }))),
      // A Seam envelope at and past what can be stored (issue 14 item 4).
      fc
        .tuple(
          fc.constantFrom("event_id", "event_type", "workspace_id"),
          fc.constantFrom("x".repeat(255), "x".repeat(256), "x".repeat(200_000), "a\u0000b"),
        )
        .map(([field, value]) => Buffer.from(JSON.stringify(validEvent({ [field]: value })))),
      fc
        .constantFrom(
          "0000-06-01T00:00:00Z",
          "+010000-01-01T00:00:00Z",
          "1999-12-31T23:59:59.999Z",
          "2000-01-01T00:00:00.000Z",
          "2200-12-31T23:59:59.999Z",
          "2201-01-01T00:00:00.000Z",
        )
        .map((value) => Buffer.from(JSON.stringify(validEvent({ occurred_at: value })))),
      // A Seam envelope with one field of the wrong type, empty or missing.
      fc
        .tuple(envelopeField, fc.oneof(weird, fc.constant(""), fc.constant(undefined)))
        .map(([field, value]) => Buffer.from(JSON.stringify(validEvent({ [field]: value })))),
    );
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (body, asChunks, cuts) => {
          // Signed over the bytes sent (CONTRACT §3), invalid UTF-8 included.
          const text = body.toString("utf8");
          const lines = Object.entries(signRawBody(api.secret, body)).map(([name, value]) =>
            headerLine(name, value),
          );
          lines.push(headerLine("Content-Type", "application/json"));
          const response = await post(lines, body, asChunks ? { chunks: cuts } : {});
          const context = `body ${text.slice(0, 200)} (${body.length} bytes, chunked ${asChunks})`;
          const code = expectDocumentedAnswer(response, WEBHOOK_CODES, context);
          if (body.length > LIMIT) expect(code, context).toBe("payload_too_large");
          else expect(code, context).toBe(isEnvelope(body) ? undefined : "invalid_payload");
        },
      ),
      RUNS,
    );
  });

  it("draws the line exactly at the limit, with Content-Length, chunked, or a lying length", async () => {
    const padFor = (size: number) => {
      const empty = JSON.stringify(validEvent({ pad: "" }));
      return Buffer.from(JSON.stringify(validEvent({ pad: "p".repeat(size - empty.length) })));
    };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -3, max: 3 }),
        fc.constantFrom("exact", "chunked", "short", "long"),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (offset, framing, lie, cuts) => {
          const body = padFor(LIMIT + offset);
          expect(body.length).toBe(LIMIT + offset);
          const signature = Object.entries(signBody(api.secret, body.toString())).map(
            ([name, value]) => headerLine(name, value),
          );
          const context = `${body.length} bytes, ${framing}, lie ${lie}`;
          if (framing === "exact" || framing === "chunked") {
            const response = await post(
              signature,
              body,
              framing === "chunked" ? { chunks: cuts } : {},
            );
            const code = expectDocumentedAnswer(response, WEBHOOK_CODES, context);
            expect(code, context).toBe(body.length > LIMIT ? "payload_too_large" : undefined);
            return;
          }
          // A Content-Length that lies: shorter cuts the signed body (the rest is a second,
          // malformed request on the connection); longer leaves the server waiting for bytes
          // that never come, until the client gives up and closes its side.
          const declared = framing === "short" ? body.length - lie : body.length + lie;
          const head = requestHead(
            "POST",
            "/webhooks/seam",
            [...signature, headerLine("Content-Length", String(declared))],
            host,
          );
          const response = await rawExchange(api.url, {
            parts: [Buffer.concat([head, body])],
            endAfterWrite: framing === "long",
            timeoutMs: 2000,
          });
          if (framing === "long" && declared <= LIMIT) {
            // No answer is possible before the body is complete; what matters is that the
            // server does not hang on to the request or fail (checked after the properties).
            if (!response.incomplete) expectDocumentedAnswer(response, WEBHOOK_CODES, context);
            return;
          }
          const code = expectDocumentedAnswer(response, WEBHOOK_CODES, context);
          // The bytes past a short length are a malformed second request, which node's parser
          // may refuse (400 for the connection) before the first request is answered.
          const first = declared > LIMIT ? "payload_too_large" : "invalid_signature";
          expect([first, ...(framing === "short" ? ["invalid_request"] : [])], context).toContain(
            code,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("answers other methods, paths and request targets with the envelope", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST", "FOO"),
        fc.oneof(
          fc.constantFrom(
            "/webhooks/seam/",
            "/webhooks/SEAM",
            "/webhooks//seam",
            "/webhooks/seam?x=1&x=2",
            "/webhooks/%73eam",
            "/webhooks/../webhooks/seam",
            "/webhooks/seam%00",
            "/webhooks/seam#frag",
          ),
          fc.webPath().map((path) => `/webhooks${path}`),
          fc.constantFrom(
            "*",
            "webhooks/seam",
            "http://127.0.0.1/webhooks/seam",
            "/webhooks\\seam",
            "//webhooks/seam",
          ),
        ),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant("real") },
          fc.constantFrom(undefined, "", "a b", "evil.example/x", "[::1", "127.0.0.1:99999", "é"),
        ),
        async (method, target, hostHeader) => {
          const head = requestHead(
            method,
            target,
            [headerLine("Content-Length", "2")],
            hostHeader === "real" ? host : hostHeader,
          );
          const response = await rawExchange(api.url, { parts: [head, "{}"] });
          expectDocumentedAnswer(response, WEBHOOK_CODES, `${method} ${target} Host ${hostHeader}`);
        },
      ),
      RUNS,
    );
  });

  it("still takes a valid signed webhook and reports healthy after all of the above", async () => {
    const response = await api.sendEvent(validEvent());
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ok: true });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  });
});
