import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A small chat server that keeps CONTRACT.md's promises in memory — ids in storage order, the
 * echo as the ack, `client_msg_id` stored once per sender, Part 1 `last_id` catch-up before the
 * welcome notice, Part 2 resume (msg_type 10) then a caught-up notice — over real sockets on an
 * ephemeral port. The SDK's socket logic is tested against it without a cluster; the same SDK
 * runs against the real gateways in test/cluster and the browser test.
 *
 * Faults are injected the way a network or a gateway produces them: sockets cut without a close
 * frame, close codes, refused upgrades, an answer withheld, a storage error frame.
 */
export interface StoredMessage {
  id: number;
  conversation: string;
  user_id: string;
  username: string;
  msg_type: number;
  content: string;
  client_msg_id?: string;
  date: string;
}

interface Session {
  ws: WebSocket;
  userId: string;
  /** Part 1 sockets have one conversation; Part 2 follows the ones it resumed or belongs to. */
  part: 1 | 2;
  conversations: Set<string>;
}

export interface Handshake {
  path: string;
  query: URLSearchParams;
  protocols: string | undefined;
}

export type Behaviour =
  /** Store, then echo and fan out (normal). */
  | 'normal'
  /** Store the message, then cut the connection before the echo leaves. */
  | 'store-then-cut'
  /** Read frames and do nothing with them (a dead connection that TCP has not noticed). */
  | 'blackhole'
  /** Answer every message with a 1500 error frame, storing nothing (storage down). */
  | 'storage-down';

export class ContractServer {
  readonly messages: StoredMessage[] = [];
  /** Every upgrade request that reached the server, accepted or not. */
  readonly handshakes: Handshake[] = [];
  /** Every frame clients sent, parsed, with the user who sent it. */
  readonly received: { userId: string; frame: any }[] = [];
  behaviour: Behaviour = 'normal';
  /** How many of the next resume frames fail as a whole (1500, no conversation), as a gateway whose MySQL does not answer. */
  failingResumes = 0;
  /** Per conversation, how many of its next catch-ups fail (1500 naming it; it goes live and the resume goes on). */
  readonly failingCatchUps = new Map<string, number>();
  /** Status to refuse upgrades with (e.g. 401), or undefined to accept. */
  refuseWith: number | undefined;
  /** Paths this server does not serve, refused 404 (a Part 1 server has no `/api/chat`). */
  readonly missingPaths = new Set<string>();
  private readonly tokens = new Map<string, string>();
  private readonly sessions = new Set<Session>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('bearer') ? 'bearer' : false) });
  private nextId = 1;

  private constructor(readonly server: Server) {
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  static async start(): Promise<ContractServer> {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const contract = new ContractServer(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return contract;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** A token for `userId`; revoke it with `revoke`. */
  tokenFor(userId: string): string {
    const token = `token-${userId}-${Math.random().toString(36).slice(2)}`;
    this.tokens.set(token, userId);
    return token;
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  get openSockets(): number {
    return this.sessions.size;
  }

  /** Stores a message from someone else, as if sent on another connection. */
  post(conversation: string, userId: string, content: string): StoredMessage {
    return this.store(conversation, userId, { msg_type: 4, content });
  }

  /** Cuts every connection without a close frame (a gateway killed, a cable pulled): 1006 at the client. */
  cutAll(): void {
    for (const session of this.sessions) session.ws.terminate();
  }

  /** Cuts one user's connections only. */
  cutUser(userId: string): void {
    for (const session of this.sessions) if (session.userId === userId) session.ws.terminate();
  }

  /** Closes every connection with `code`. */
  closeAll(code: number, reason = ''): void {
    for (const session of this.sessions) session.ws.close(code, reason);
  }

  /** Resolves once `count` sockets are open (and past their catch-up). */
  async waitForSockets(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size !== count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} open sockets, have ${this.sessions.size}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  stored(clientMsgId: string): StoredMessage[] {
    return this.messages.filter((m) => m.client_msg_id === clientMsgId);
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.ws.terminate();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://server.invalid');
    const protocols = req.headers['sec-websocket-protocol'];
    this.handshakes.push({ path: url.pathname, query: url.searchParams, protocols });
    const offered = (protocols ?? '').split(',').map((p) => p.trim());
    const token = url.searchParams.get('Authorization')?.replace(/^bearer /i, '') ?? (offered[0] === 'bearer' ? offered[1] : undefined);
    const userId = token ? this.tokens.get(token) : undefined;
    const status = this.missingPaths.has(url.pathname) ? 404 : (this.refuseWith ?? (userId ? undefined : 401));
    if (status !== undefined) {
      const body = JSON.stringify({ code: status === 401 ? 1003 : status === 404 ? 1005 : 1500, data: {}, msg: 'refused' });
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (url.pathname === '/api/chat') return this.openPart2(ws, userId!);
      const target = url.searchParams.get('target_id');
      const conversation = url.pathname === '/api/chat_private' && target ? pair(userId!, target) : 'group';
      const lastId = url.searchParams.get('last_id');
      const session: Session = { ws, userId: userId!, part: 1, conversations: new Set([conversation]) };
      this.attach(session);
      if (lastId !== null) for (const m of this.after(conversation, Number(lastId))) this.sendTo(session, m);
      this.sendJson(ws, { msg_type: 1, code: 0, content: '已进入聊天室', date: now(), online_count: this.sessions.size });
    });
  }

  private openPart2(ws: WebSocket, userId: string): void {
    const session: Session = { ws, userId, part: 2, conversations: new Set() };
    // A user's private chats reach them without asking; `group` only once named.
    for (const m of this.messages) if (m.conversation.startsWith('p:') && m.conversation.includes(userId)) session.conversations.add(m.conversation);
    this.attach(session);
  }

  private attach(session: Session): void {
    this.sessions.add(session);
    session.ws.on('close', () => this.sessions.delete(session));
    session.ws.on('message', (data) => {
      let frame: any;
      try {
        frame = JSON.parse(String(data));
      } catch {
        this.sendJson(session.ws, { msg_type: 1, code: 1002, content: 'not JSON', date: now() });
        return;
      }
      this.received.push({ userId: session.userId, frame });
      if (this.behaviour === 'blackhole') return;
      this.handle(session, frame);
    });
  }

  private handle(session: Session, frame: any): void {
    if (frame.msg_type === 10) {
      if (this.failingResumes > 0) {
        this.failingResumes -= 1;
        this.sendJson(session.ws, { msg_type: 1, code: 1500, content: '服务暂时不可用，请稍后再试', date: now() });
        return;
      }
      for (const [conversation, lastId] of Object.entries(frame.conversations ?? {})) {
        session.conversations.add(conversation);
        const failures = this.failingCatchUps.get(conversation) ?? 0;
        if (failures > 0) {
          this.failingCatchUps.set(conversation, failures - 1);
          this.sendJson(session.ws, { conversation, msg_type: 1, code: 1500, content: '会话同步失败，请稍后重新同步', date: now() });
          continue;
        }
        for (const m of this.after(conversation, Number(lastId))) this.sendTo(session, m);
      }
      this.sendJson(session.ws, { msg_type: 1, code: 0, content: 'caught up', date: now() });
      return;
    }
    if (frame.msg_type === 8 || frame.msg_type === 9) {
      for (const other of this.sessions) {
        if (other !== session && other.conversations.has(frame.conversation)) {
          this.sendJson(other.ws, { ...frame, user_id: session.userId, date: now() });
        }
      }
      return;
    }
    const conversation = session.part === 1 ? [...session.conversations][0]! : frame.conversation;
    if (this.behaviour === 'storage-down') {
      this.sendJson(session.ws, { msg_type: 1, code: 1500, content: 'not stored', date: now(), client_msg_id: frame.client_msg_id });
      return;
    }
    const repeat = frame.client_msg_id
      ? this.messages.find((m) => m.user_id === session.userId && m.client_msg_id === frame.client_msg_id)
      : undefined;
    if (repeat) {
      this.sendTo(session, repeat);
      return;
    }
    if (session.part === 2) session.conversations.add(conversation);
    const stored = this.store(conversation, session.userId, frame);
    if (this.behaviour === 'store-then-cut') session.ws.terminate();
    else this.echo(stored);
  }

  private store(conversation: string, userId: string, frame: { msg_type: number; content: string; client_msg_id?: string }): StoredMessage {
    const message: StoredMessage = {
      id: this.nextId++,
      conversation,
      user_id: userId,
      username: `user-${userId}`,
      msg_type: frame.msg_type,
      content: frame.content,
      date: now(),
      ...(frame.client_msg_id ? { client_msg_id: frame.client_msg_id } : {}),
    };
    this.messages.push(message);
    if (this.behaviour === 'normal' || this.behaviour === 'store-then-cut') {
      for (const session of this.sessions) if (session.userId !== userId && session.conversations.has(conversation)) this.sendTo(session, message);
    }
    return message;
  }

  /** Everyone else got it in `store`; the sender's sockets (this one: the ack) get it here. */
  private echo(message: StoredMessage): void {
    for (const session of this.sessions) {
      if (session.userId === message.user_id && session.conversations.has(message.conversation)) this.sendTo(session, message);
    }
  }

  private after(conversation: string, lastId: number): StoredMessage[] {
    return this.messages.filter((m) => m.conversation === conversation && m.id > lastId);
  }

  private sendTo(session: Session, message: StoredMessage): void {
    const { conversation, ...frame } = message;
    this.sendJson(session.ws, session.part === 2 ? { ...frame, conversation } : { ...frame, online_count: this.sessions.size, avatar: '' });
  }

  private sendJson(ws: WebSocket, frame: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  }
}

export function pair(a: string, b: string): string {
  return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
}

function now(): string {
  return new Date().toISOString();
}
