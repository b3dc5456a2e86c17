import { describe, expect, it } from "vitest";
import { signBody } from "../replay/sign.js";
import { createVerifier } from "./verify.js";

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
