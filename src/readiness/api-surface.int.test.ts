import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../test/helpers/client.js";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { TEST_TOKEN } from "../../test/helpers/readiness.js";
import { LOCAL_API_TOKEN } from "../config.js";
import type { Readiness } from "../shared/readiness.js";

/** The surface every /v1 route shares (CONTRACT §5): tokens, validation, the documentation. */
describe("/v1 API surface", () => {
  const harness = useHarness();
  let api: Service;
  beforeAll(() => {
    api = harness().service;
  });

  describe("authentication", () => {
    const path = () => `/v1/user_identities/${randomUUID()}/readiness`;
    it("answers 401 without a token, with an unknown token, or a malformed header", async () => {
      for (const authorization of [
        undefined,
        "Bearer not-a-token-we-know-0123",
        `Bearer ${LOCAL_API_TOKEN}`,
        "Basic dXNlcjpwYXNz",
        "Bearer",
      ]) {
        const response = await fetch(`${api.url}${path()}`, {
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
        await expectError(response, 401, "unauthorized");
      }
    });

    it("checks the token before anything else: a bad id without a token is a 401", async () => {
      const response = await fetch(`${api.url}/v1/user_identities/nope/readiness`);
      await expectError(response, 401, "unauthorized");
      const post = await fetch(`${api.url}/v1/user_identities/nope/deletion`, { method: "POST" });
      await expectError(post, 401, "unauthorized");
    });

    it("accepts any configured token, case-insensitive scheme", async () => {
      const response = await api.call("GET", path(), undefined, {
        headers: {
          authorization: `bearer ${TEST_TOKEN}`,
        },
      });
      expect(response.status).toBe(200);
    });
  });

  describe("validation", () => {
    it.each([
      ["GET", "readiness"],
      ["PUT", "resources"],
      ["POST", "deletion"],
      ["GET", "deletion"],
      ["GET", "deletion/events"],
      ["DELETE", "deletion"],
    ])(
      "%s …/%s answers 400 naming user_identity_id for an id that is not a UUID",
      async (method, tail) => {
        for (const id of ["nope", "1234", `${randomUUID()}x`]) {
          const response = await api.call(method, `/v1/user_identities/${id}/${tail}`);
          await expectError(response, 400, "invalid_request", "user_identity_id");
        }
      },
    );

    it("names the list element that is not a UUID, and links nothing", async () => {
      const identity = randomUUID();
      const good = randomUUID();
      const response = await api.link(identity, {
        acs_user_ids: [good],
        phone_ids: [randomUUID(), "x"],
      });
      await expectError(response, 400, "invalid_request", "phone_ids[1]");
      expect((await api.readiness(identity)).blockers).toEqual([]);
    });

    it("refuses unknown fields, non-arrays, non-JSON and malformed JSON bodies", async () => {
      const identity = randomUUID();
      await expectError(
        await api.link(identity, { acs_users_ids: [randomUUID()] }),
        400,
        "invalid_request",
        "acs_users_ids",
      );
      await expectError(
        await api.call("PUT", `/v1/user_identities/${identity}/resources`, {
          acs_user_ids: randomUUID(),
        }),
        400,
        "invalid_request",
        "acs_user_ids",
      );
      // No body where one is required: not read as {} (which linked nothing, with a 200).
      await expectError(
        await api.call("PUT", `/v1/user_identities/${identity}/resources`),
        400,
        "invalid_request",
      );
      // Many unknown fields: the first is named, the answer does not list them all.
      const many = Object.fromEntries(
        Array.from({ length: 3000 }, (_, i) => [`unknown_${"k".repeat(200)}_${i}`, 1]),
      );
      const crowded = await api.call("PUT", `/v1/user_identities/${identity}/resources`, many);
      expect(crowded.status).toBe(400);
      const crowdedText = await crowded.text();
      expect(crowdedText.length).toBeLessThan(500);
      expect(crowdedText).toContain("(and 2999 more)");
      const form = await fetch(`${api.url}/v1/user_identities/${identity}/resources`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${TEST_TOKEN}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: JSON.stringify({ acs_user_ids: [randomUUID()] }),
      });
      await expectError(form, 400, "invalid_request");
      const malformed = await api.call(
        "PUT",
        `/v1/user_identities/${identity}/resources`,
        undefined,
        {
          headers: { "content-type": "application/json" },
        },
      );
      // An empty JSON body is malformed JSON where a body is required.
      await expectError(malformed, 400, "invalid_request");
      // A body declared in another charset than UTF-8 is refused, not read as UTF-8.
      const utf16 = await fetch(`${api.url}/v1/user_identities/${identity}/resources`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${TEST_TOKEN}`,
          "content-type": "application/json; charset=utf-16le",
        },
        body: Buffer.from(JSON.stringify({ acs_user_ids: [randomUUID()] }), "utf16le"),
      });
      // Read as UTF-8 it was "Malformed JSON": the answer now says what to send.
      expect(utf16.status).toBe(400);
      expect(((await utf16.json()) as { error: { message: string } }).error.message).toContain(
        "UTF-8",
      );
      expect((await api.readiness(identity)).blockers).toEqual([]);
      const utf8 = await api.call(
        "PUT",
        `/v1/user_identities/${identity}/resources`,
        { acs_user_ids: [randomUUID()] },
        { headers: { "content-type": 'application/json; charset="UTF-8"' } },
      );
      expect(utf8.status).toBe(200);
    });

    it("reads an empty JSON body as no body where the body is optional (POST …/deletion)", async () => {
      const identity = randomUUID();
      const response = await api.call(
        "POST",
        `/v1/user_identities/${identity}/deletion`,
        undefined,
        {
          headers: { "content-type": "application/json" },
        },
      );
      expect(response.status).toBe(201);
      expect(((await response.json()) as Readiness).deletion?.status).toBe("ready");
      // Chunked, with no data: the same (fetch sends an empty stream as Content-Length: 0).
      const { hostname, port } = new URL(api.url);
      const socket = connect(Number(port), hostname);
      const answer = new Promise<string>((resolve) => {
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString();
          if (text.includes("\r\n\r\n")) resolve(text);
        });
      });
      socket.write(
        `POST /v1/user_identities/${randomUUID()}/deletion HTTP/1.1\r\nHost: ${hostname}\r\n` +
          `Authorization: Bearer ${TEST_TOKEN}\r\nContent-Type: application/json\r\n` +
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
      );
      const statusLine = (await answer).split("\r\n")[0];
      socket.destroy();
      expect(statusLine).toBe("HTTP/1.1 201 Created");
    });

    it.each(["Application/JSON", "application/vnd.seam2+json"])(
      "reads the lists of POST …/deletion sent as %s (media types are case-insensitive)",
      async (type) => {
        const identity = randomUUID();
        const acsUser = randomUUID();
        const response = await api.call(
          "POST",
          `/v1/user_identities/${identity}/deletion`,
          { acs_user_ids: [acsUser] },
          { headers: { "content-type": type } },
        );
        expect(response.status).toBe(201);
        // Read as {} before: the deletion was ready at once, its list dropped.
        expect(((await response.json()) as Readiness).blockers).toEqual([
          { type: "acs_user", id: acsUser },
        ]);
      },
    );

    it.each(["1.5", "-1", "abc", "", "1e3"])(
      "answers 400 naming wait for wait=%s",
      async (wait) => {
        const identity = randomUUID();
        expect((await api.requestDeletion(identity)).status).toBe(201);
        const response = await api.call(
          "GET",
          `/v1/user_identities/${identity}/deletion?wait=${wait}`,
        );
        await expectError(response, 400, "invalid_request", "wait");
      },
    );
  });

  describe("documentation", () => {
    it("serves an OpenAPI document of every /v1 route, without a token", async () => {
      const response = await fetch(`${api.url}/openapi.json`);
      expect(response.status).toBe(200);
      const doc = (await response.json()) as {
        openapi: string;
        paths: Record<string, Record<string, { security?: unknown[] }>>;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\./);
      const base = "/v1/user_identities/{user_identity_id}";
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          `${base}/deletion`,
          `${base}/deletion/events`,
          `${base}/deletion/history`,
          `${base}/readiness`,
          "/v1/deletions",
          "/v1/deletions/events",
          "/v1/service",
          `${base}/resources`,
          "/admin/dead-letters",
          "/admin/dead-letters/retry",
          "/admin/dead-letters/{job_id}",
          "/admin/dead-letters/{job_id}/retry",
        ].sort(),
      );
      expect(Object.keys(doc.paths[`${base}/deletion`] ?? {}).sort()).toEqual([
        "delete",
        "get",
        "post",
      ]);
      expect(doc.paths[`${base}/readiness`]?.get?.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
        type: "http",
        scheme: "bearer",
      });
    });

    it("serves a readable reference at /docs", async () => {
      const response = await fetch(`${api.url}/docs`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/html");
      // Swagger UI from this origin; its script reads /openapi.json (src/http/docs-page.int.test.ts).
      expect(await response.text()).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    });
  });
});
