import { WebSocket } from 'ws';

/** How one attempt to send a message ended. */
export type SendOutcome =
  /** The server stored it and sent it back (its id). */
  | 'ack'
  /** A `msg_type: 1` frame refused it (its code, 1500 while a dependency is down). */
  | 'error'
  /** Nothing came back within the client's patience: it resends with the same client_msg_id. */
  | 'silent'
  /** The socket closed before an answer: it resends after reconnecting. */
  | 'closed';

export interface SendAttempt {
  clientMsgId: string;
  client: number;
  sentAt: number;
  endedAt: number;
  outcome: SendOutcome;
  code?: number;
}

export interface Reconnect {
  client: number;
  closedAt: number;
  /** When the next socket was in the room (welcome notice); undefined if it never was. */
  backAt?: number;
  closeCode: number;
}

export interface LoadUser {
  userId: string;
  token: string;
}

export interface ChatLoadOptions {
  /** ws://host:port of the front door. */
  wsBase: string;
  users: LoadUser[];
  /** Messages per second over all clients. */
  rate: number;
  /** How long a client waits for its message to come back before resending it. @default 10000 */
  patienceMs?: number;
}

/**
 * Steady chat in the group room, as a well-behaved client library would do it: each client sends
 * one message at a time with a client_msg_id and waits for it to come back; a refusal is resent
 * after 0.5 s and silence after `patienceMs`, both with the same client_msg_id (the server stores
 * it once); a closed socket reconnects through the front door with backoff and jitter and
 * `last_id`, then resends. Everything is recorded for the report: every attempt's outcome, every
 * reconnect, every chat id each client received.
 */
export class ChatLoad {
  readonly attempts: SendAttempt[] = [];
  readonly reconnects: Reconnect[] = [];
  /** clientMsgId → the id the server gave it, for every acknowledged message. */
  readonly acked = new Map<string, number>();
  readonly clients: LoadClient[];
  private running = true;

  constructor(private readonly options: ChatLoadOptions) {
    this.clients = options.users.map((user, i) => new LoadClient(i, user, options, this));
  }

  async start(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.connected()));
    for (const client of this.clients) void client.sendLoop(() => this.running);
  }

  /** Stops sending, waits for each client's message in flight, then closes every socket. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients.map((client) => client.idle()));
    for (const client of this.clients) client.close();
  }

  /** The time of the newest acknowledgement, to tell whether chat flows. */
  lastAckAt = 0;
}

type Waiter = (frame: any) => boolean;

export class LoadClient {
  ws?: WebSocket;
  /** Open and welcomed into the room. */
  open = false;
  /** A handshake or welcome is under way. */
  connecting = false;
  lastId = 0;
  /** Every chat id received, with how many times. */
  readonly received = new Map<number, number>();
  /**
   * Other users' messages received more than once. (A sender may get its own message back twice:
   * a resend is acknowledged with the stored original.)
   */
  duplicateDeliveries = 0;
  /** When the send in flight started (undefined when idle). */
  inFlightSince?: number;
  private closedAt?: number;
  private closeCode = 0;
  private failures = 0;
  private stopped = false;
  private sent = 0;
  private waiters = new Set<Waiter>();
  private openWaiters: Array<() => void> = [];
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    readonly index: number,
    readonly user: LoadUser,
    private readonly options: ChatLoadOptions,
    private readonly load: ChatLoad,
  ) {
    this.connect();
  }

  connected(): Promise<void> {
    return this.open ? Promise.resolve() : new Promise((resolve) => this.openWaiters.push(resolve));
  }

  idle(): Promise<void> {
    return this.loopDone;
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private connect(): void {
    if (this.stopped) return;
    this.connecting = true;
    const url = new URL(`${this.options.wsBase}/api/chat_groups`);
    url.searchParams.set('Authorization', `bearer ${this.user.token}`);
    if (this.lastId > 0) url.searchParams.set('last_id', String(this.lastId));
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(JSON.parse(String(data))));
    ws.on('error', () => {});
    ws.on('unexpected-response', (req) => {
      req.destroy();
      this.lost(0);
    });
    ws.on('close', (code) => this.lost(code));
  }

  private onFrame(frame: any): void {
    if (frame.msg_type === 1 && frame.code === 0 && !this.open) {
      this.open = true;
      this.connecting = false;
      this.failures = 0;
      if (this.closedAt !== undefined) {
        this.load.reconnects.push({ client: this.index, closedAt: this.closedAt, backAt: Date.now(), closeCode: this.closeCode });
        this.closedAt = undefined;
      }
      for (const wake of this.openWaiters.splice(0)) wake();
    }
    if (typeof frame.id === 'number') {
      const times = (this.received.get(frame.id) ?? 0) + 1;
      this.received.set(frame.id, times);
      if (times > 1 && frame.user_id !== this.user.userId) this.duplicateDeliveries += 1;
      if (frame.id > this.lastId) this.lastId = frame.id;
    }
    for (const waiter of this.waiters) if (waiter(frame)) this.waiters.delete(waiter);
  }

  /** The socket (or its handshake) is gone: reconnect with backoff and jitter, as clients should. */
  private lost(code: number): void {
    if (this.ws === undefined) return;
    this.ws = undefined;
    const wasOpen = this.open;
    this.open = false;
    this.connecting = false;
    // Out of the room from now until a later socket is welcomed; failed handshakes meanwhile
    // do not restart the clock.
    if (wasOpen) {
      this.closedAt = Date.now();
      this.closeCode = code;
    }
    for (const waiter of this.waiters) if (waiter({ closed: true })) this.waiters.delete(waiter);
    if (this.stopped) return;
    this.failures += 1;
    const backoff = Math.min(5_000, 250 * 2 ** Math.min(this.failures - 1, 5));
    setTimeout(() => this.connect(), backoff / 2 + Math.random() * backoff);
  }

  async sendLoop(running: () => boolean): Promise<void> {
    let finish!: () => void;
    this.loopDone = new Promise((resolve) => (finish = resolve));
    const intervalMs = (this.load.clients.length / this.options.rate) * 1000;
    // Spread the clients' first sends over one interval.
    await delay(Math.random() * intervalMs);
    while (running()) {
      const clientMsgId = `chaos-${this.index}-${this.sent++}`;
      const content = `chaos ${clientMsgId}`;
      const since = Date.now();
      this.inFlightSince = since;
      for (;;) {
        if (!this.open) await this.connected();
        if (this.stopped) break;
        const outcome = await this.attempt(clientMsgId, content);
        if (outcome === 'ack') break;
        if (outcome === 'error') await delay(500);
      }
      this.inFlightSince = undefined;
      if (this.stopped) break;
      await delay(intervalMs * (0.8 + Math.random() * 0.4));
    }
    finish();
  }

  private attempt(clientMsgId: string, content: string): Promise<SendOutcome> {
    const sentAt = Date.now();
    const patience = this.options.patienceMs ?? 10_000;
    return new Promise<SendOutcome>((resolve) => {
      const finish = (outcome: SendOutcome, code?: number) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        this.load.attempts.push({ clientMsgId, client: this.index, sentAt, endedAt: Date.now(), outcome, code });
        resolve(outcome);
      };
      const waiter: Waiter = (frame) => {
        if (frame.closed) {
          finish('closed');
          return true;
        }
        if (frame.client_msg_id !== clientMsgId) return false;
        if (typeof frame.id === 'number') {
          this.load.acked.set(clientMsgId, frame.id);
          this.load.lastAckAt = Date.now();
          finish('ack');
        } else if (frame.msg_type === 1) {
          finish('error', frame.code);
        } else return false;
        return true;
      };
      this.waiters.add(waiter);
      const timer = setTimeout(() => finish('silent'), patience);
      try {
        this.ws!.send(JSON.stringify({ msg_type: 4, content, client_msg_id: clientMsgId }));
      } catch {
        finish('closed');
      }
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
