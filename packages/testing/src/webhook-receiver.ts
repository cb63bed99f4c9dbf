import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body once its signature verified; undefined when it did not. */
  payload: unknown;
  /** Why verification failed, when it did. */
  error?: string;
  /** The status this receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The status to answer the n-th request with (n from 1). @default 204 */
  respond: (n: number, request: { headers: IncomingHttpHeaders; body: string }) => number;
  /** Resolves once `count` requests matching `match` have arrived. */
  waitFor(match: (hook: ReceivedWebhook) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * An HTTP receiver of signed webhooks on 127.0.0.1, port 0, verifying each request as a
 * receiver would: with the `standardwebhooks` package and the endpoint's secret.
 */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const waiters = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    respond: () => 204,
    waitFor(match, count = 1, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = receiver.received.filter(match);
          if (found.length < count) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${receiver.received.filter(match).length} of ${count} matching webhooks within ${timeoutMs} ms (${receiver.received.length} received)`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = receiver.respond(receiver.received.length + 1, { headers: req.headers, body });
      let payload: unknown;
      let error: string | undefined;
      try {
        payload = verifier.verify(body, req.headers as Record<string, string>);
      } catch (err) {
        error = (err as Error).message;
      }
      receiver.received.push({ headers: req.headers, body, payload, status, ...(error === undefined ? {} : { error }) });
      res.writeHead(status).end();
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
