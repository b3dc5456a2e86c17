import { connect, createServer, type Socket } from "node:net";

/**
 * Counts one connection's statements from the bytes its client sends: every simple `Query`
 * message and every `Execute` of the extended protocol. The startup message has no type byte;
 * every message after it is a type byte, an int32 length and the body.
 */
const statementCounter = (onStatement: () => void) => {
  let startup = true;
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    for (;;) {
      if (startup) {
        if (pending.length - offset < 4) break;
        const length = pending.readInt32BE(offset);
        if (pending.length - offset < length) break;
        offset += length;
        startup = false;
        continue;
      }
      if (pending.length - offset < 5) break;
      const type = pending[offset];
      const length = pending.readInt32BE(offset + 1);
      if (pending.length - offset < 1 + length) break;
      if (type === 0x51 /* Q */ || type === 0x45 /* E */) onStatement();
      offset += 1 + length;
    }
    pending = pending.subarray(offset);
  };
};

/**
 * A proxy in front of Postgres that counts the statements its clients run, exactly and at once,
 * where pg_stat_database's counters lag up to 10 s in PG 15 and pg_stat_statements needs
 * `shared_preload_libraries` (not set on these machines). Assumes no TLS, as postgres.js
 * connects unless told otherwise.
 */
const startStatementCounter = (target: { host: string; port: number }) =>
  new Promise<{ port: number; statements: () => number }>((resolve) => {
    let statements = 0;
    const server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      const drop = (socket: Socket) =>
        socket
          .on("error", () => client.destroy())
          .on("close", () => {
            client.destroy();
            upstream.destroy();
          });
      drop(client);
      drop(upstream);
      client.on(
        "data",
        statementCounter(() => {
          statements += 1;
        }),
      );
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        statements: () => statements,
      });
    });
  });

/*
 * The entry of the counter's own process (`node bench/.build/statement-counter.mjs`, PG_HOST
 * and PG_PORT set): prints `port <n>` once listening, then `statements <n>` every 50 ms. In the
 * bench's own process the proxy competed with 10,000 long-polls being opened, and the slower
 * answers it gave made the API hold more in memory than it does against Postgres directly
 * (322 MB against 275 MB), so the measured process would not be the one that runs.
 */
const counter = await startStatementCounter({
  host: process.env.PG_HOST ?? "127.0.0.1",
  port: Number(process.env.PG_PORT ?? 5432),
});
process.stdout.write(`port ${counter.port}\n`);
setInterval(() => process.stdout.write(`statements ${counter.statements()}\n`), 50);
process.on("SIGTERM", () => process.exit(0));
