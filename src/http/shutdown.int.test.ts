import { connect } from "node:net";
import { expect, it, onTestFinished } from "vitest";
import { useHarness } from "../../test/helpers/harness.js";
import { collectLogLines } from "../../test/helpers/log-lines.js";
import { watchOpenRequests } from "../../test/helpers/open-requests.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { createLogger } from "../log.js";

const harness = useHarness();

/**
 * A stopping service answers its waiters and then waits for the requests still in hand, but
 * not for ever: a request that does not end (here a webhook whose body never finishes) has its
 * connection closed once the grace is over, and the stop goes on. Once, in CI, a stop waited
 * on a connection with no end and the next tests ran beside the service it left.
 */
it("closes a connection whose request never ends once the grace is over, and says so", {
  timeout: 30_000,
}, async () => {
  const { lines, sink } = collectLogLines();
  const service = await harness().start({ role: "api", log: createLogger("warn", {}, sink) });
  const requests = watchOpenRequests();
  onTestFinished(() => requests.stop());
  const { port } = new URL(service.url);
  const socket = connect(Number(port), "127.0.0.1");
  await new Promise<void>((resolve, reject) =>
    socket.once("connect", resolve).once("error", reject),
  );
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  // The headers and 10 bytes of the 100 announced: the request is in hand, and stays so.
  socket.write(
    'POST /webhooks/seam HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"event_i',
  );
  await waitFor(() => requests.open().some((request) => request.startsWith("POST")), {
    message: "the partial request in hand",
  });
  let stopped = false;
  const stopping = service.stop().then(() => {
    stopped = true;
  });
  await waitFor(() => service.closing() === "http: connections", {
    message: "the stop waiting for the connection",
  });
  expect(stopped).toBe(false);
  await stopping;
  await closed;
  const warned = lines.find((line) => line.includes("connections still open at shutdown"));
  expect(warned, "the grace's warn line").toBeDefined();
  expect(JSON.parse(warned ?? "{}")).toMatchObject({ connections: 1 });
});
