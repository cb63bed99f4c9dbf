import { WebSocket } from 'ws';
import { serverFrameProblem } from './frame-check.ts';

export interface ConnectOptions {
  token: string;
  /** `groups` or `private` */
  kind?: 'groups' | 'private';
  targetId?: string;
  lastId?: number | string;
  /** How the token travels. @default 'query' */
  tokenIn?: 'query' | 'header' | 'subprotocol';
  origin?: string;
  /** Wait for the gateway's welcome notice (in the room, counted online, caught up). @default true */
  waitForWelcome?: boolean;
}

/** The notice a gateway sends once a socket is in its room (and caught up, with last_id). */
export function isWelcome(frame: any): boolean {
  return frame.msg_type === 1 && frame.code === 0;
}

/**
 * A real `ws` client that records every frame, for black-box tests. Every frame the server sends
 * is held to the protocol's JSON Schema (test/support/frame-check.ts): one that does not match
 * fails the test's next wait, and its close.
 */
export class ChatClient {
  readonly frames: any[] = [];
  /** Server frames that did not match the protocol's schema, with the reason. */
  readonly violations: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      const problem = serverFrameProblem(frame);
      if (problem) this.violations.push(`${problem} in ${JSON.stringify(frame)}`);
      this.frames.push(frame);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    void this.closed.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  static url(base: string, options: ConnectOptions): string {
    const url = new URL(`${base.replace(/^http/, 'ws')}/api/chat_${options.kind ?? 'groups'}`);
    if (options.targetId) url.searchParams.set('target_id', options.targetId);
    if (options.lastId !== undefined) url.searchParams.set('last_id', String(options.lastId));
    if ((options.tokenIn ?? 'query') === 'query') url.searchParams.set('Authorization', `bearer ${options.token}`);
    return url.toString();
  }

  static async connect(base: string, options: ConnectOptions): Promise<ChatClient> {
    const headers: Record<string, string> = {};
    if (options.tokenIn === 'header') headers.authorization = `Bearer ${options.token}`;
    if (options.origin) headers.origin = options.origin;
    const protocols = options.tokenIn === 'subprotocol' ? ['bearer', options.token] : undefined;
    const ws = new WebSocket(ChatClient.url(base, options), protocols, { headers });
    const client = new ChatClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
    });
    if (options.waitForWelcome ?? true) await client.next(isWelcome);
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first recorded frame (from `from` on) matching `match`. */
  next(match: (frame: any) => boolean, timeoutMs = 10_000, from = 0): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.violations.length > 0) {
          done();
          reject(new Error(`a server frame does not match the protocol schema: ${this.violations[0]}`));
          return;
        }
        const found = this.frames.slice(from).find(match);
        if (found) {
          done();
          resolve(found);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed before a matching frame; got ${JSON.stringify(this.frames.slice(-5))}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits until `count` chat messages (frames with an id) have arrived. */
  async messages(count: number, timeoutMs = 10_000): Promise<any[]> {
    await this.next(() => this.frames.filter((f) => f.id !== undefined).length >= count, timeoutMs);
    return this.frames.filter((f) => f.id !== undefined);
  }

  async close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    const how = await this.closed;
    if (this.violations.length > 0) throw new Error(`a server frame does not match the protocol schema: ${this.violations[0]}`);
    return how;
  }
}
