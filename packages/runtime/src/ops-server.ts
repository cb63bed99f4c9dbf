import { createServer, type Server, type ServerResponse } from 'node:http';
import { errors, ok } from '@im/protocol';

export type CheckResult = 'ok' | 'down';

export interface OpsServerOptions {
  /** Named checks behind `/readyz`; each is `down` when it fails or takes longer than `checkTimeoutMs`. */
  checks: Record<string, () => Promise<unknown>>;
  /** A prom-client registry (or anything that renders the Prometheus text format). */
  metrics: { contentType: string; metrics(): Promise<string> };
  /** @default 2000 */
  checkTimeoutMs?: number;
}

/**
 * The operations endpoints of a process that serves no HTTP of its own (the mail worker):
 * `/healthz` (the process answers), `/readyz` (every check passes; 503 / 1500 naming the ones
 * down otherwise) and `/metrics`. Answers in the API's envelope, like the API's and gateways' own.
 */
export function createOpsServer(options: OpsServerOptions): Server {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  return createServer((request, response) => {
    handle(request.url ?? '/').catch(() => {
      if (!response.headersSent) json(response, 500, envelopeOf(errors.internal()));
      else response.destroy();
    });

    async function handle(url: string): Promise<void> {
      const path = url.split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return json(response, 404, envelopeOf(errors.notFound()));
      }
      if (path === '/healthz') return json(response, 200, ok({ status: 'alive' }));
      if (path === '/readyz') {
        const names = Object.keys(options.checks);
        const results = await Promise.all(names.map((name) => runCheck(options.checks[name]!, timeoutMs)));
        const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
        if (results.every((result) => result === 'ok')) return json(response, 200, ok(checks));
        const failure = errors.serviceUnavailable();
        return json(response, failure.status, { code: failure.code, data: checks, msg: failure.message });
      }
      if (path === '/metrics') {
        const text = await options.metrics.metrics();
        response.writeHead(200, { 'content-type': options.metrics.contentType });
        response.end(text);
        return;
      }
      json(response, 404, envelopeOf(errors.notFound()));
    }
  });
}

/** Starts listening; rejects when the port is taken. */
export async function listenOps(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function runCheck(check: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('down'), timeoutMs);
  });
  try {
    return await Promise.race([check().then(() => 'ok' as const), timeout]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

function envelopeOf(error: { code: number; message: string }) {
  return { code: error.code, data: {}, msg: error.message };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
