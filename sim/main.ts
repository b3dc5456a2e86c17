import { parseArgs } from "node:util";
import { LOCAL_API_TOKEN, LOCAL_WEBHOOK_SECRET } from "../src/config.js";
import { startSeamSim } from "./server.js";

/**
 * `npm run seam:sim`: the simulated Seam workspace on its own, for running seam-projector
 * against it by hand. It seeds a few identities, prints how to point the service at it, and
 * logs a line per request and per webhook. Ctrl-C stops it.
 */

const USAGE = `usage: npm run seam:sim -- [--port 4010] [--webhook-url URL] [--secret whsec_…]
  [--identities 2] [--cascade] [--seed 1] [--api-key seam_…]`;

/** Fixed, so the commands it prints (and the README's) can be copied as they are. */
const DEFAULT_API_KEY = "seam_sim_local_key";

const main = async () => {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "4010" },
      "webhook-url": { type: "string", default: "http://127.0.0.1:3000/webhooks/seam" },
      secret: { type: "string", default: LOCAL_WEBHOOK_SECRET },
      identities: { type: "string", default: "2" },
      cascade: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      "api-key": { type: "string", default: DEFAULT_API_KEY },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const numbers = {
    port: Number(values.port),
    identities: Number(values.identities),
    seed: Number(values.seed),
  };
  for (const [name, value] of Object.entries(numbers)) {
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`--${name}: a whole number\n${USAGE}`);
  }

  const sim = await startSeamSim({
    apiKey: values["api-key"],
    port: numbers.port,
    seed: numbers.seed,
    cascade: values.cascade,
    webhook: { url: values["webhook-url"], secret: values.secret },
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  const identities = Array.from({ length: numbers.identities }, () => sim.seedIdentity());

  const service = new URL(values["webhook-url"]).origin;
  const auth = `-H 'authorization: Bearer ${LOCAL_API_TOKEN}'`;
  const first = identities[0]?.user_identity_id ?? "<user_identity_id>";
  console.log(
    [
      "Seam simulator (a simulated Seam workspace; nothing leaves this machine)",
      `  endpoint:     ${sim.url}`,
      `  api key:      ${sim.apiKey}`,
      `  workspace:    ${sim.workspaceId}`,
      `  webhooks to:  ${values["webhook-url"]} (Svix-signed)`,
      `  identity delete: ${values.cascade ? "cascades to linked resources" : "refused while ACS users or credentials remain"}; seed ${sim.seed}`,
      "  identities:",
      ...identities.map(
        (identity) =>
          `    ${identity.user_identity_id}  acs_users ${identity.acs_user_ids.length}, acs_credentials ${identity.acs_credential_ids.length}, phones ${identity.phone_ids.length}, client_sessions ${identity.client_session_ids.length}, enrollment_automations ${identity.enrollment_automation_ids.length}`,
      ),
      "",
      "Run the service against it:",
      `  SEAM_API_KEY=${sim.apiKey} SEAM_ENDPOINT=${sim.url} npm start`,
      "Delete an identity, then wait for it:",
      `  curl -X POST ${auth} -H 'content-type: application/json' -d '{"execute":true}' ${service}/v1/user_identities/${first}/deletion`,
      `  curl ${auth} '${service}/v1/user_identities/${first}/deletion?wait=60'`,
      "",
    ].join("\n"),
  );

  const stop = (signal: NodeJS.Signals) => {
    console.log(`${signal}: closing the simulator`);
    void sim.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
