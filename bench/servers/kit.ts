import type { HttpBindings } from "@hono/node-server";

/** A variable the bench sets for its servers: a server started without it stops at once. */
export const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

/**
 * The body read of the bench's own webhook routes: the bytes of the Node request, gathered as
 * the service gathers them (src/ingest/raw-body.ts), without its limits.
 */
export const readBody = (incoming: HttpBindings["incoming"]) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => resolve(Buffer.concat(chunks)));
    incoming.on("error", reject);
  });
