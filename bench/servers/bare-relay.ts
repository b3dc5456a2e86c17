import { createServer, type IncomingMessage } from "node:http";

/**
 * The execution section's ceiling: the least work between a step's last awaited webhook and the
 * next step's first Seam call. `POST /expect` names an identity's credentials and its ACS user,
 * deletes the credentials in the simulator, and answers once the ACS user's delete has been
 * answered. `POST /webhooks/seam` reads the body, parses it and, on the last of those
 * credentials' `acs_credential.deleted`, sends `/acs/users/delete` there and then, before it
 * even answers the webhook: no signature check, no Postgres, no queue, nothing persisted.
 */

const seam = process.env.SEAM_ENDPOINT ?? "";
const apiKey = process.env.SEAM_API_KEY ?? "";

/** `done` settles the identity's `/expect`: with nothing, or with what failed. */
type Expected = { acsUserId: string; left: Set<string>; done: (failed?: unknown) => void };
const byCredential = new Map<string, Expected>();

const readJson = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
};

const callSeam = async (route: string, params: Record<string, string>) => {
  const response = await fetch(`${seam}${route}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${route} answered ${response.status}`);
};

const server = createServer((req, res) => {
  readJson(req)
    .then(async (body) => {
      if (req.url === "/expect") {
        const ids = body.acs_credential_ids as string[];
        const failed = await new Promise<unknown>((done) => {
          const expected = { acsUserId: String(body.acs_user_id), left: new Set(ids), done };
          for (const id of ids) byCredential.set(id, expected);
          Promise.all(
            ids.map((id) => callSeam("/acs/credentials/delete", { acs_credential_id: id })),
          ).catch(done);
        });
        return res.writeHead(failed === undefined ? 200 : 502).end(String(failed ?? ""));
      }
      const credentialId = body.acs_credential_id;
      const expected =
        body.event_type === "acs_credential.deleted" && typeof credentialId === "string"
          ? byCredential.get(credentialId)
          : undefined;
      if (expected !== undefined) {
        byCredential.delete(credentialId as string);
        expected.left.delete(credentialId as string);
        if (expected.left.size === 0) {
          callSeam("/acs/users/delete", { acs_user_id: expected.acsUserId }).then(
            () => expected.done(),
            expected.done,
          );
        }
      }
      res.writeHead(202).end();
    })
    .catch((error: unknown) => {
      process.stderr.write(`bare relay: ${String(error)}\n`);
      res.writeHead(500).end();
    });
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => process.exit(0));
