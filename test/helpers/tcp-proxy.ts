import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of Postgres that a test can cut: `cut()` drops every connection and
 * refuses new ones, as a network partition or a Postgres restart would; `restore()` accepts
 * again on the same port. Used to lose notifications on purpose, and to see what clients send
 * (`observeClient`). Tests take it through proxyUrl.
 */
const startTcpProxy = async (
  target: { host: string; port: number },
  options: {
    /** Called for each new connection; what it returns sees every byte the client sends. */
    observeClient?: () => (chunk: Buffer) => void;
  } = {},
) => {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        for (const socket of [client, upstream]) {
          socket.on("error", drop);
          socket.on("close", drop);
        }
        const observe = options.observeClient?.();
        if (observe) client.on("data", observe);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => {
        const address = next.address();
        port = typeof address === "object" && address ? address.port : port;
        server = next;
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await open();
  return {
    get port() {
      return port;
    },
    cut: close,
    restore: open,
    close,
  };
};

/**
 * A proxy in front of the server a URL names (its port, or Postgres's default), and the same
 * URL through the proxy.
 */
export const proxyUrl = async (
  url: string,
  options: Parameters<typeof startTcpProxy>[1] = {},
): Promise<{ proxy: Awaited<ReturnType<typeof startTcpProxy>>; url: string }> => {
  const target = new URL(url);
  const proxy = await startTcpProxy(
    { host: target.hostname, port: Number(target.port || 5432) },
    options,
  );
  // The URL's own text with only its host changed (URL.toString would add a "/" to an origin).
  return { proxy, url: url.replace(target.host, `127.0.0.1:${proxy.port}`) };
};
