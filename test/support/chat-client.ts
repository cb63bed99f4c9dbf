import { WebSocket, type ClientOptions } from 'ws';
import { ChatSocket, type ChatEndpoint } from '@im/client';
import { chatServerFrameProblem, serverFrameProblem } from './frame-check.ts';

export interface ConnectOptions {
  token: string;
  /** `groups` or `private` (Part 1), or `chat`: `/api/chat`, whose welcome is the caught-up notice of its first resume. */
  kind?: 'groups' | 'private' | 'chat';
  /** `chat`: the conversations (and last ids) of the first resume frame. */
  lastIds?: Record<string, number>;
  targetId?: string;
  lastId?: number;
  /** How the token travels. @default 'query' */
  tokenIn?: 'query' | 'header' | 'subprotocol';
  origin?: string;
  /** Wait for the gateway's welcome notice (in the room, counted online, caught up). @default true */
  waitForWelcome?: boolean;
  /** Passed to `ws` (e.g. `autoPong: false` for a peer that ignores pings). */
  wsOptions?: ClientOptions;
}

/** The notice a gateway sends once a socket is in its room (and caught up, with last_id). */
export function isWelcome(frame: any): boolean {
  return frame.msg_type === 1 && frame.code === 0;
}

/** A refused upgrade: the HTTP status and body the gateway answered with, before any socket. */
export interface UpgradeRefused extends Error {
  status: number;
  body: string;
}

/**
 * A chat connection for black-box tests, on the SDK's ChatSocket (packages/client) with
 * reconnecting off: it records every frame exactly as the gateway sent it, and tests send raw
 * frames, so what they assert is the wire, not the SDK's view of it. Node's `ws` carries it,
 * which also lets tests set an Origin or an Authorization header and read the HTTP answer of a
 * refused upgrade. Every frame the server sends is held to the protocol's JSON Schema
 * (test/support/frame-check.ts): one that does not match fails the test's next wait, and its close.
 */
export class ChatClient {
  readonly frames: any[] = [];
  /** Server frames that did not match the protocol's schema, with the reason. */
  readonly violations: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters = new Set<() => void>();

  private constructor(
    readonly socket: ChatSocket,
    /** The raw `ws` socket, for what the SDK does not do (binary frames, terminate). */
    readonly ws: WebSocket,
    part2: boolean,
  ) {
    const frameProblem = part2 ? chatServerFrameProblem : serverFrameProblem;
    socket.on('frame', (frame) => {
      const problem = frameProblem(frame);
      if (problem) this.violations.push(`${problem} in ${JSON.stringify(frame)}`);
      this.frames.push(frame);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    void this.closed.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  static async connect(base: string, options: ConnectOptions): Promise<ChatClient> {
    const endpoint: ChatEndpoint =
      options.kind === 'private' ? { kind: 'private', targetId: options.targetId ?? '' } : options.kind === 'chat' ? { kind: 'chat' } : { kind: 'group' };
    let ws: WebSocket | undefined;
    let refused: UpgradeRefused | undefined;
    const socket = new ChatSocket({
      url: base,
      endpoint,
      token: () => options.token,
      tokenIn: options.tokenIn ?? 'query',
      lastId: options.lastId,
      lastIds: options.lastIds,
      reconnect: false,
      createWebSocket: (url, protocols, token) => {
        const headers: Record<string, string> = {};
        if (options.tokenIn === 'header') headers.authorization = `Bearer ${token}`;
        if (options.origin) headers.origin = options.origin;
        ws = new WebSocket(url, protocols, { ...options.wsOptions, headers });
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk));
          res.on('end', () => {
            refused = Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode ?? 0, body });
            ws!.terminate();
          });
        });
        return ws as never;
      },
    });
    const welcomed = socket.connect();
    const client = new ChatClient(socket, ws!, options.kind === 'chat');
    try {
      if (options.waitForWelcome ?? true) await welcomed;
      else {
        welcomed.catch(() => {});
        await new Promise<void>((resolve, reject) => {
          ws!.once('open', () => resolve());
          ws!.once('close', () => reject(refused ?? new Error('closed before opening')));
        });
      }
    } catch (err) {
      throw refused ?? err;
    }
    return client;
  }

  /** Sends a frame as it is (a string as it is, anything else as JSON); dropped once closed. */
  send(frame: unknown): void {
    this.socket.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame));
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
    if (this.ws.readyState !== WebSocket.CLOSED) this.socket.close();
    const how = await this.closed;
    if (this.violations.length > 0) throw new Error(`a server frame does not match the protocol schema: ${this.violations[0]}`);
    return how;
  }
}
