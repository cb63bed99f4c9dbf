import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from '@im/logger';
import type { Upstream } from './nginx-config.ts';
import { createStaticFiles, isAppPath } from './static-files.ts';

/** Prometheus metrics of the API: not served on the public port. */
const METRICS_PATH = '/metrics';

/** The paths the gateways serve; everything else belongs to the API. */
export const CHAT_PATHS: ReadonlySet<string> = new Set(['/api/chat', '/api/chat_groups', '/api/chat_private']);

export interface NodeFrontDoorOptions {
  api: Upstream;
  gateways: readonly Upstream[];
  logger: Logger;
  /** How long a gateway that failed a handshake is passed over. @default 10_000 */
  failTimeoutMs?: number;
  /** Connect plus handshake time allowed to one gateway before trying the next. @default 10_000 */
  handshakeTimeoutMs?: number;
  /** The built web app to serve at `/` (see static-files.ts); without it every path goes to the API. */
  webRoot?: string;
}

export interface NodeFrontDoor {
  server: Server;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), cuts open sockets. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The start command's front door when nginx is not installed: the same routing as
 * deploy/nginx/im-cluster.conf.template, on the public port. WebSocket handshakes go to the gateway
 * with the fewest open sockets; one that refuses the connection, times out or answers 502/503 is
 * passed over for `failTimeoutMs` and the handshake tries the next, as nginx's
 * `proxy_next_upstream` does. Plain HTTP goes to the API through http-proxy-3, except the web
 * app's paths (static-files.ts). Headers pass as the client sent them (Origin, Sec-WebSocket-*, the
 * query), plus X-Forwarded-For/-Proto and X-Real-IP.
 * Logs name paths and upstreams, never a query string: tokens travel there.
 */
export function createNodeFrontDoor(options: NodeFrontDoorOptions): NodeFrontDoor {
  const { logger } = options;
  const pool = new GatewayPool(options.gateways, options.failTimeoutMs ?? 10_000);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const tunnels = new Set<Duplex>();

  const proxy = createProxyServer({
    xfwd: true,
    proxyTimeout: 60_000,
    agent: new Agent({ keepAlive: true, maxSockets: 256 }),
  });
  proxy.on('proxyReq', (proxyReq, req) => {
    proxyReq.setHeader('x-real-ip', req.socket.remoteAddress ?? '');
  });
  proxy.on('error', (err, req, res) => {
    logger.warn({ path: pathOf(req), err: errorCode(err) }, 'upstream request failed');
    if (isResponse(res) && !res.headersSent) sendJson(res, 503, { code: 1500, data: {}, msg: '服务暂不可用' });
    else res.destroy();
  });

  const staticFiles = options.webRoot ? createStaticFiles(options.webRoot) : undefined;

  const server = createServer((req, res) => {
    const path = pathOf(req);
    // As in the nginx config: metrics are scraped on each process's own port, not handed out here.
    if (path === METRICS_PATH) return sendJson(res, 404, { code: 1005, data: {}, msg: '接口不存在' });
    if (staticFiles && isAppPath(path)) {
      staticFiles(req, res);
      return;
    }
    // A plain GET on a chat path goes to a gateway too, which says it only speaks WebSocket.
    const gateway = CHAT_PATHS.has(path) ? pool.pick(new Set()) : undefined;
    const target = gateway ?? options.api;
    proxy.web(req, res, { target: { host: target.host, port: target.port } });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!CHAT_PATHS.has(pathOf(req))) {
      endRaw(socket, 404, { code: 1005, data: {}, msg: '没有这个聊天接口' });
      return;
    }
    forwardHandshake(req, socket, head, new Set());
  });

  /** Sends the handshake to the next gateway; retries another one until something answers. */
  function forwardHandshake(req: IncomingMessage, client: Duplex, head: Buffer, tried: Set<PoolMember>): void {
    if (client.destroyed) return;
    const gateway = pool.pick(tried);
    if (!gateway) {
      endRaw(client, 503, { code: 1500, data: {}, msg: '服务暂不可用' });
      return;
    }
    tried.add(gateway);
    gateway.active += 1;
    let settled = false;
    const release = () => {
      if (settled) return;
      settled = true;
      gateway.active -= 1;
    };
    // Set once this attempt hands the handshake to another gateway: its late events are ignored.
    let passedOn = false;
    const retryElsewhere = (reason: string) => {
      passedOn = true;
      release();
      pool.markDown(gateway);
      logger.warn({ upstream: gateway.name, reason }, 'gateway failed a handshake; passing it over for a while');
      forwardHandshake(req, client, head, tried);
    };

    const upstream = request({
      host: gateway.host,
      port: gateway.port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req),
      agent: false,
      timeout: handshakeTimeoutMs,
    });
    const abandon = () => upstream.destroy();
    client.once('close', abandon);

    upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('handshake timed out'), { code: 'ETIMEDOUT' })));
    let answered = false;
    upstream.on('error', (err) => {
      client.off('close', abandon);
      if (passedOn) return;
      // Before any answer nothing has reached the client, so another gateway can take the handshake.
      if (answered || client.destroyed) {
        release();
        client.destroy();
        return;
      }
      retryElsewhere(errorCode(err));
    });

    upstream.on('response', (res) => {
      answered = true;
      client.off('close', abandon);
      if ((res.statusCode === 502 || res.statusCode === 503) && pool.hasUntried(tried)) {
        res.resume();
        retryElsewhere(`status ${res.statusCode}`);
        return;
      }
      release();
      // A refusal (401, 403, 429 …): relay it as the gateway wrote it, then close.
      client.write(statusLine(res) + headerLines(res.rawHeaders, ['connection', 'keep-alive', 'transfer-encoding']) + 'Connection: close\r\n\r\n');
      res.pipe(client);
    });

    upstream.on('upgrade', (res, gatewaySocket: Socket, gatewayHead: Buffer) => {
      answered = true;
      client.off('close', abandon);
      if (client.destroyed) {
        gatewaySocket.destroy();
        return release();
      }
      gatewaySocket.setTimeout(0);
      gatewaySocket.setNoDelay(true);
      (client as Socket).setNoDelay?.(true);
      client.write(statusLine(res) + headerLines(res.rawHeaders, []) + '\r\n');
      if (gatewayHead.length > 0) client.write(gatewayHead);
      if (head.length > 0) gatewaySocket.write(head);
      tunnels.add(client);
      const teardown = () => {
        tunnels.delete(client);
        release();
        client.destroy();
        gatewaySocket.destroy();
      };
      gatewaySocket.on('error', teardown);
      gatewaySocket.on('close', teardown);
      client.on('close', teardown);
      gatewaySocket.pipe(client);
      client.pipe(gatewaySocket);
    });

    upstream.end();
  }

  return {
    server,
    async close(graceMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Open sockets are left to the gateways, which close them with 1012 "reconnect" while they
      // drain (they stop first); whatever is still open after the grace period is cut.
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const tunnel of tunnels) tunnel.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
      proxy.close();
    },
  };
}

interface PoolMember extends Upstream {
  name: string;
  /** Open sockets and handshakes in progress. */
  active: number;
  downUntil: number;
}

/** Least connections with rotation on ties; members that failed recently are passed over. */
class GatewayPool {
  private readonly members: PoolMember[];
  private turn = 0;

  constructor(
    gateways: readonly Upstream[],
    private readonly failTimeoutMs: number,
  ) {
    if (gateways.length === 0) throw new Error('front door: at least one gateway is needed');
    this.members = gateways.map((g) => ({ ...g, name: `${g.host}:${g.port}`, active: 0, downUntil: 0 }));
  }

  /** The next gateway not in `tried`; the ones marked down only when no other is left, as nginx does. */
  pick(tried: ReadonlySet<PoolMember>): PoolMember | undefined {
    const now = Date.now();
    const untried = this.members.filter((m) => !tried.has(m));
    const up = untried.filter((m) => m.downUntil <= now);
    const candidates = up.length > 0 ? up : untried;
    if (candidates.length === 0) return undefined;
    this.turn = (this.turn + 1) % this.members.length;
    let best: PoolMember | undefined;
    for (let i = 0; i < this.members.length; i += 1) {
      const member = this.members[(this.turn + i) % this.members.length]!;
      if (candidates.includes(member) && (best === undefined || member.active < best.active)) best = member;
    }
    return best;
  }

  hasUntried(tried: ReadonlySet<PoolMember>): boolean {
    return this.members.some((m) => !tried.has(m));
  }

  markDown(member: PoolMember): void {
    member.downUntil = Date.now() + this.failTimeoutMs;
  }
}

/** The client's headers as sent, plus where it came from: nginx's $proxy_add_x_forwarded_for. */
function forwardedHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const client = req.socket.remoteAddress ?? '';
  const previous = req.headers['x-forwarded-for'];
  return {
    ...req.headers,
    'x-forwarded-for': previous ? `${previous}, ${client}` : client,
    'x-real-ip': client,
    'x-forwarded-proto': 'http',
  };
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

function statusLine(res: IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
}

function headerLines(raw: readonly string[], drop: readonly string[]): string {
  let lines = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop.includes(raw[i]!.toLowerCase())) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return lines;
}

/** Answers a handshake we cannot forward, in the API's envelope. */
function endRaw(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reason = status === 404 ? 'Not Found' : 'Service Unavailable';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function isResponse(value: unknown): value is ServerResponse {
  return typeof (value as ServerResponse).writeHead === 'function';
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? 'error';
}
