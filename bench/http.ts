import { Agent, request } from "node:http";

export type Delivery = { body: string; headers: Record<string, string> };

/** Keep-alive connections for webhooks: a sender reuses a few sockets, as Svix does. */
export const webhookAgent = (sockets: number) =>
  new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

/**
 * Posts one pre-signed delivery; resolves with the status once the answer is read. `onSent` is
 * called as the request is handed to the socket: the moment an event counts as sent.
 */
export const postDelivery = (
  agent: Agent,
  url: string,
  delivery: Delivery,
  onSent?: () => void,
): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { ...delivery.headers, "content-length": Buffer.byteLength(delivery.body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(delivery.body);
    onSent?.();
  });

export type LongPoll = {
  /** Resolves once the request is written: the server can register the waiter from then on. */
  sent: Promise<void>;
  /** Resolves with the status, the body and `performance.now()` when the answer was complete. */
  answered: Promise<{ status: number; body: string; at: number }>;
};

/** One long-poll on a connection of its own (a waiting request holds its socket). */
const longPoll = (agent: Agent, url: string, token: string): LongPoll => {
  let markSent = () => {};
  const sent = new Promise<void>((resolve) => {
    markSent = resolve;
  });
  const answered = new Promise<{ status: number; body: string; at: number }>((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, at: performance.now() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.on("finish", markSent);
    req.end();
  });
  return { sent, answered };
};

/** Sockets for many simultaneous long-polls: one each, none kept after its answer. */
export const waiterAgent = () =>
  new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/**
 * Opens one long-poll per identity on `baseUrl`'s API, 500 at a time so the server's accept
 * queue never overflows (a refused SYN is retried a second later); resolves once every request
 * is written.
 */
export const openLongPolls = async (
  agent: Agent,
  baseUrl: string,
  identityIds: string[],
  token: string,
): Promise<LongPoll[]> => {
  const polls: LongPoll[] = [];
  for (let i = 0; i < identityIds.length; i += 500) {
    const chunk = identityIds
      .slice(i, i + 500)
      .map((id) => longPoll(agent, `${baseUrl}/v1/user_identities/${id}/deletion?wait=60`, token));
    await Promise.all(chunk.map((poll) => poll.sent));
    polls.push(...chunk);
  }
  return polls;
};
