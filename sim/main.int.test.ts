import { afterEach, describe, expect, it } from "vitest";
import { LOCAL_WEBHOOK_SECRET } from "../src/config.js";
import { type ChildHandle, spawnChild } from "../test/helpers/process.js";
import { waitFor } from "../test/helpers/wait-for.js";
import { createSimClient } from "./client.js";
import { startWebhookReceiver } from "./receiver.js";

let running: ChildHandle | undefined;
let closeReceiver: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeReceiver?.();
  if (running?.child.pid !== undefined && running.child.exitCode === null) {
    process.kill(running.child.pid, "SIGKILL");
  }
  running = undefined;
});

describe("npm run seam:sim", () => {
  it("serves its seeded identities to @seamapi/http, posts and logs, and stops on SIGTERM", async () => {
    // The default secret is the service's local one: a receiver that knows only it verifies.
    const receiver = await startWebhookReceiver(LOCAL_WEBHOOK_SECRET);
    closeReceiver = receiver.close;
    const sim = spawnChild(process.execPath, [
      "--import",
      "tsx",
      "sim/main.ts",
      "--port",
      "0",
      "--identities",
      "3",
      "--cascade",
      "--webhook-url",
      receiver.url,
    ]);
    running = sim;
    const endpoint = await waitFor(
      () => /endpoint: +(http:\/\/127\.0\.0\.1:\d+)/.exec(sim.output())?.[1],
      {
        timeoutMs: 20_000,
        message: `the simulator's endpoint in its output:\n${sim.output()}`,
      },
    );
    const output = sim.output();
    expect(output).toContain("api key:      seam_sim_local_key");
    expect(output).toContain(`SEAM_API_KEY=seam_sim_local_key SEAM_ENDPOINT=${endpoint} npm start`);
    expect(output).toContain("identity delete: cascades");
    const identities = [
      ...output.matchAll(/^ {4}([0-9a-f-]{36}) {2}acs_users 1, acs_credentials 2, phones 1/gm),
    ].map((match) => String(match[1]));
    expect(identities).toHaveLength(3);
    expect(output).toContain(
      `-d '{"execute":true}' ${new URL(receiver.url).origin}/v1/user_identities/${identities[0]}/deletion`,
    );
    expect(output).toContain(`/v1/user_identities/${identities[0]}/deletion?wait=60'`);

    const seam = createSimClient({ apiKey: "seam_sim_local_key", url: endpoint });
    const credentials = await seam.acs.credentials.list({
      user_identity_id: String(identities[1]),
    });
    expect(credentials.map((credential) => credential.user_identity_id)).toEqual([
      identities[1],
      identities[1],
    ]);
    await waitFor(() => sim.output().includes("/acs/credentials/list"), {
      message: "a log line for the request",
    });

    const [phone] = await seam.phones.list({ owner_user_identity_id: String(identities[2]) });
    await seam.phones.deactivate({ device_id: String(phone?.device_id) });
    await waitFor(() => receiver.received.length === 1, { message: "the phone's webhook" });
    expect(receiver.received[0]?.problems).toEqual([]);
    expect(receiver.received[0]?.event.device_id).toBe(phone?.device_id);
    await waitFor(
      () => sim.output().includes(`webhook phone.deactivated ${phone?.device_id} → 204`),
      {
        message: "a log line for the webhook",
      },
    );

    process.kill(Number(sim.child.pid), "SIGTERM");
    expect(await sim.exited).toBe(0);
    expect(sim.output()).toContain("SIGTERM: closing the simulator");
  });
});
