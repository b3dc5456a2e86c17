import { createServer, type ServerResponse } from "node:http";

/**
 * The memory floor of the waiters figures: the least a process must keep to answer a held
 * long-poll later. Node's own HTTP server, each request kept by the identity in its path until
 * its client goes; no framework, no authentication, no state read, no answer. What a process
 * holding waiters on Node takes beyond this is its own.
 */
const held = new Map<string, Set<ServerResponse>>();
let count = 0;
let reported = -1;

const server = createServer((request, response) => {
  const id = request.url?.split("/")[3] ?? "";
  const responses = held.get(id) ?? new Set<ServerResponse>();
  responses.add(response);
  held.set(id, responses);
  count += 1;
  response.once("close", () => {
    responses.delete(response);
    if (responses.size === 0) held.delete(id);
    count -= 1;
  });
});
// Each waiter is a connection of its own, as in the service (MAX_WAITERS + a reserve).
server.maxConnections = 100_000;
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("listening\n"));
// The bench reads how many it holds from this line, as it changes.
setInterval(() => {
  if (count === reported) return;
  reported = count;
  process.stdout.write(`held ${count}\n`);
}, 100);
process.on("SIGTERM", () => process.exit(0));
