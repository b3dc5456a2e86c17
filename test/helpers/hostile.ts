import fc from "fast-check";
import { expect } from "vitest";
import { codeToStatus, type ErrorCode } from "../../src/errors.js";
import type { RawResponse } from "./raw-http.js";

/**
 * What every hostile request must get: a whole answer below 500, and for anything but a 2xx
 * the documented envelope `{"error":{"code","message"}}`, its code one of `codes` and its
 * status the one that code maps to. Returns the code (undefined for a 2xx).
 */
export const expectDocumentedAnswer = (
  response: RawResponse,
  codes: readonly ErrorCode[],
  context: string,
): ErrorCode | undefined => {
  const where = `${context}\n→ ${response.status} ${response.body.toString("utf8").slice(0, 300)}`;
  expect(response.incomplete, `no whole answer: ${where}`).toBe(false);
  expect(response.status, where).toBeGreaterThanOrEqual(200);
  expect(response.status, where).toBeLessThan(500);
  if (response.status < 300) return undefined;
  expect(response.headers["content-type"], where).toMatch(/^application\/json/);
  const parsed = JSON.parse(response.body.toString("utf8")) as {
    error?: { code?: unknown; message?: unknown; field?: unknown };
  };
  const code = parsed.error?.code;
  expect(codes, where).toContain(code);
  expect(typeof parsed.error?.message, where).toBe("string");
  expect(["undefined", "string"], where).toContain(typeof parsed.error?.field);
  // A request node's parser refuses keeps node's status (431 headers too large, 408 too slow).
  const statuses = code === "invalid_request" ? [400, 408, 431] : [codeToStatus(code as ErrorCode)];
  expect(statuses, where).toContain(response.status);
  return code as ErrorCode;
};

/** The error codes every route can answer with (unknown route or method, malformed request). */
export const TRANSPORT_CODES = ["not_found", "invalid_request"] as const satisfies ErrorCode[];

/** A big value that prints as `label` in a counterexample, not as every byte. */
export const short = (value: Buffer, label: string): Buffer =>
  Object.assign(value, { [fc.toStringMethod]: () => `<${label}>` });

/** Header values as bytes: printable ASCII, Latin-1 and UTF-8 text, empty, and huge. */
export const headerValueBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .string({ maxLength: 40 })
    .map((value) => Buffer.from(value.replace(/[\r\n\0]/g, ""), "latin1")),
  fc
    .string({ unit: "grapheme", maxLength: 20 })
    .map((value) => Buffer.from(value.replace(/[\r\n\0]/g, ""), "utf8")),
  fc.uint8Array({ minLength: 1, maxLength: 30 }).map((bytes) =>
    // Any byte but the ones that end a header line (the parser's own business).
    Buffer.from(bytes.map((byte) => (byte === 10 || byte === 13 || byte === 0 ? 32 : byte))),
  ),
  fc.constant(Buffer.alloc(0)),
  fc
    .integer({ min: 1, max: 40_000 })
    .map((length) => short(Buffer.alloc(length, "x"), `${length} × "x"`)),
);

/** A header name as a client might spell it: any case of `name`. */
export const anyCase = (name: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) =>
      [...name].map((char, index) => (upper[index] ? char.toUpperCase() : char)).join(""),
    );

/** Content types, sensible and not. */
export const contentTypes: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "",
    "application/json; charset=utf-16",
    "application/jsonx",
  ),
  fc.string({ maxLength: 30 }).map((value) => value.replace(/[\r\n\0]/g, "")),
);

/** A head line `name: value` as bytes, the value written as given. */
export const headerLine = (name: string, value: Buffer | string): Buffer =>
  Buffer.concat([
    Buffer.from(`${name}: `, "latin1"),
    typeof value === "string" ? Buffer.from(value, "latin1") : value,
    Buffer.from("\r\n"),
  ]);

/** A request head as bytes, ready for rawExchange. */
export const requestHead = (
  method: string,
  target: string | Buffer,
  lines: Buffer[],
  /** The Host header's value; none when undefined. */
  host: string | undefined,
): Buffer =>
  Buffer.concat([
    Buffer.from(`${method} `),
    typeof target === "string" ? Buffer.from(target, "latin1") : target,
    Buffer.from(" HTTP/1.1\r\n"),
    ...(host === undefined ? [] : [headerLine("Host", host)]),
    ...lines,
    Buffer.from("\r\n"),
  ]);

/** A body cut into `count` random pieces, as a chunked encoder would send it. */
export const chunked = (body: Buffer, cuts: number[]): Buffer => {
  const points = [...new Set(cuts.map((cut) => cut % (body.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...points, body.length]) {
    if (point <= from) continue;
    const piece = body.subarray(from, point);
    pieces.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
    from = point;
  }
  pieces.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(pieces);
};
