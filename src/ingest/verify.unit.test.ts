import fc from "fast-check";
import { Webhook } from "svix";
import { describe, expect, it } from "vitest";
import { signBody } from "../replay/sign.js";
import { createVerifier, signBytes } from "./verify.js";

// The Standard Webhooks known-answer vector (standard-webhooks spec test suite).
const KAT = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const headersOf = (values: Record<string, string>) => (name: string) => values[name];
const at = (seconds: number) => () => new Date(seconds * 1000);

describe("createVerifier", () => {
  const katHeaders = {
    "svix-id": KAT.id,
    "svix-timestamp": String(KAT.timestamp),
    "svix-signature": KAT.signature,
  };

  it("computes the known answer with svix", () => {
    const signed = signBody(KAT.secret, KAT.payload, {
      messageId: KAT.id,
      at: new Date(KAT.timestamp * 1000),
    });
    expect(signed["svix-signature"]).toBe(KAT.signature);
  });

  it("accepts the known-answer vector with the clock at its timestamp", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp));
    expect(verify(KAT.payload, headersOf(katHeaders))).toEqual({ ok: true });
  });

  it("rejects it with the clock six minutes later, and six minutes earlier", () => {
    expect(
      createVerifier([KAT.secret], at(KAT.timestamp + 360))(KAT.payload, headersOf(katHeaders)).ok,
    ).toBe(false);
    expect(
      createVerifier([KAT.secret], at(KAT.timestamp - 360))(KAT.payload, headersOf(katHeaders)).ok,
    ).toBe(false);
  });

  it("accepts it at the edge of the tolerance, five minutes later", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp + 300));
    expect(verify(KAT.payload, headersOf(katHeaders)).ok).toBe(true);
  });

  it("accepts the webhook-* twins of the headers", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp));
    const twins = {
      "webhook-id": KAT.id,
      "webhook-timestamp": String(KAT.timestamp),
      "webhook-signature": KAT.signature,
    };
    expect(verify(KAT.payload, headersOf(twins)).ok).toBe(true);
  });

  it("matches any secret of a rotation list, and none outside it", () => {
    const other = "whsec_c2VhbS1wcm9qZWN0b3ItbG9jYWwtZGV2LXNlY3JldA==";
    expect(
      createVerifier([other, KAT.secret], at(KAT.timestamp))(KAT.payload, headersOf(katHeaders)).ok,
    ).toBe(true);
    expect(createVerifier([other], at(KAT.timestamp))(KAT.payload, headersOf(katHeaders)).ok).toBe(
      false,
    );
  });

  it("rejects a changed payload byte and a truncated signature", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp));
    expect(verify('{"test": 2432232315}', headersOf(katHeaders)).ok).toBe(false);
    const truncated = { ...katHeaders, "svix-signature": KAT.signature.slice(0, -2) };
    expect(verify(KAT.payload, headersOf(truncated)).ok).toBe(false);
  });

  it("finds the good signature among decoys and ignores other versions", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp));
    const decoys = `v1,AAAA v2,${KAT.signature.slice(3)} ${KAT.signature} v1,bogus=`;
    expect(verify(KAT.payload, headersOf({ ...katHeaders, "svix-signature": decoys })).ok).toBe(
      true,
    );
    const onlyV2 = `v2,${KAT.signature.slice(3)}`;
    expect(verify(KAT.payload, headersOf({ ...katHeaders, "svix-signature": onlyV2 })).ok).toBe(
      false,
    );
  });

  it("rejects a non-numeric timestamp", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp));
    const result = verify(
      KAT.payload,
      headersOf({ ...katHeaders, "svix-timestamp": "1614265330.5" }),
    );
    expect(result.ok).toBe(false);
  });
});

/** Our HMAC over bytes, held to svix (the oracle, and what signs in the CLI) wherever both apply. */
describe("signBytes", () => {
  const svixSignature = (secret: string, id: string, seconds: number, body: string) =>
    new Webhook(secret).sign(id, new Date(seconds * 1000), body).slice(3);
  const keyOf = (secret: string) => Buffer.from(secret.slice(6), "base64");

  it("gives the Standard Webhooks known answer", () => {
    expect(
      signBytes(keyOf(KAT.secret), KAT.id, String(KAT.timestamp), Buffer.from(KAT.payload)),
    ).toBe(KAT.signature.slice(3));
  });

  it("agrees with svix on random secrets, ids, timestamps and text bodies", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 99_999_999_999 }),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        (keyBytes, id, seconds, body) => {
          const secret = `whsec_${Buffer.from(keyBytes).toString("base64")}`;
          expect(signBytes(keyOf(secret), id, String(seconds), Buffer.from(body, "utf8"))).toBe(
            svixSignature(secret, id, seconds, body),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("verifies what svix signs, through createVerifier, for random bodies", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (body) => {
        const signed = signBody(KAT.secret, body, { at: new Date(KAT.timestamp * 1000) });
        const verify = createVerifier([KAT.secret], at(KAT.timestamp));
        expect(verify(Buffer.from(body, "utf8"), headersOf(signed)).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("signs invalid UTF-8 over its bytes, and tells a BOM apart", () => {
    const verify = createVerifier([KAT.secret], at(KAT.timestamp));
    const key = keyOf(KAT.secret);
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const headers = (body: Buffer) => ({
      "svix-id": KAT.id,
      "svix-timestamp": String(KAT.timestamp),
      "svix-signature": `v1,${signBytes(key, KAT.id, String(KAT.timestamp), body)}`,
    });
    expect(verify(bytes, headersOf(headers(bytes))).ok).toBe(true);
    const body = Buffer.from(KAT.payload);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    expect(verify(withBom, headersOf(headers(body))).ok).toBe(false);
    expect(verify(withBom, headersOf(headers(withBom))).ok).toBe(true);
  });
});
