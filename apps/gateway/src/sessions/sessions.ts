import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type ServerOptions, type WebSocket } from 'ws';
import type { TokenService } from '@im/auth';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import type { Presence } from '@im/presence';
import { AppError, CloseCode, errors, systemFrame } from '@im/protocol';
import { Connection, ConnectionSocket, type ConnectionLimits, type SessionInfo } from '../connections/connection.ts';
import { ConnectionRegistry } from '../connections/connection-registry.ts';
import { preparedFramesSupported } from '../connections/prepared-frame.ts';
import { errorFields } from '../error-fields.ts';
import { part1Channels } from '../fanout/channels.ts';
import type { Feeds } from '../fanout/feeds.ts';
import type { PresenceAnnouncer } from '../fanout/presence-announcer.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import { admitFrame } from '../messages/admit-frame.ts';
import { handleMessage, type MessageContext } from '../messages/handle-message.ts';
import { authorizeUpgrade } from '../upgrade/authorize-upgrade.ts';
import { ConnectionCap } from '../upgrade/connection-cap.ts';
import { rejectUpgrade } from '../upgrade/reject-upgrade.ts';
import type { UserLookup } from '../upgrade/user-directory.ts';
import type { CatchUp } from './catch-up.ts';
import type { ChatContext } from '../devices/chat-context.ts';
import type { Devices } from '../devices/devices.ts';
import { handleChatFrame } from '../devices/handle-chat-frame.ts';

export interface SessionsOptions {
  settings: Config['gateway'];
  logger: Logger;
  metrics: GatewayMetrics;
  tokens: TokenService;
  users: UserLookup;
  presence: Presence;
  feeds: Feeds;
  announcer: PresenceAnnouncer;
  catchUp: CatchUp;
  messages: MessageContext;
  /** `/api/chat` sockets: their conversations (Devices) and their frames (ChatContext). */
  devices: Devices;
  chat: ChatContext;
  /** True once the gateway drains: upgrades are refused. */
  isDraining(): boolean;
}

/**
 * Largest `/api/chat` frame: big enough that a resume naming 10,000 conversations (beyond
 * MAX_RESUME_CONVERSATIONS) is answered with an error frame rather than a 1009 close.
 */
const CHAT_MAX_PAYLOAD_BYTES = 512 * 1024;

/** The resolved promise an idle socket's first frame chains on. */
const SETTLED = Promise.resolve();

/**
 * Every socket's life on this gateway: upgrade (checked before a socket exists) → open (into its
 * room, counted online, caught up) → frames, one at a time per socket → close (out of its room
 * and presence). Drain waits on the per-socket queues.
 */
export class Sessions {
  /** Every open socket, by token; closes each when its token expires. */
  readonly registry = new ConnectionRegistry((connection) => connection.close(CloseCode.TokenExpired, 'token expired'));
  /**
   * Per socket with frames (or its join) in flight, the promise of the last one; an idle socket
   * has no entry.
   */
  private readonly queueTails = new Map<Connection, Promise<void>>();
  private readonly limits: ConnectionLimits;
  private readonly cap: ConnectionCap;
  private readonly wss: WebSocketServer;
  /** `/api/chat`'s: the same, but a resume frame may name thousands of conversations (messages keep their own limits). */
  private readonly chatWss: WebSocketServer;
  // Per-socket listeners are shared functions (`this` is the socket): a closure for each event of
  // each socket would cost ~100 bytes apiece on tens of thousands of idle sockets. Pongs are
  // counted by ConnectionSocket itself.
  private readonly onMessage: (this: WebSocket, raw: RawData, isBinary: boolean) => void;
  private readonly onClose: (this: WebSocket) => void;
  private checkedPreparedFrames = false;

  constructor(private readonly options: SessionsOptions) {
    const { settings } = options;
    this.limits = { maxBufferedBytes: settings.max_buffered_bytes, messagesPerSecond: settings.messages_per_second };
    this.cap = new ConnectionCap(settings.max_connections_per_user);
    const serverOptions: ServerOptions = {
      noServer: true,
      // The registry tracks the sockets; ws's own Set would cost a closure and an entry per socket.
      clientTracking: false,
      WebSocket: ConnectionSocket,
      perMessageDeflate: false,
      maxPayload: settings.max_payload_bytes,
      // Clients that send the token as subprotocols `bearer, <jwt>` get `bearer` back, never the token.
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
    };
    this.wss = new WebSocketServer(serverOptions);
    this.chatWss = new WebSocketServer({ ...serverOptions, maxPayload: Math.max(settings.max_payload_bytes, CHAT_MAX_PAYLOAD_BYTES) });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listeners' own `this` is the socket
    const sessions = this;
    this.onMessage = function (raw, isBinary) {
      sessions.received(connectionOf(this), raw, isBinary);
    };
    this.onClose = function () {
      void sessions.closed(connectionOf(this));
    };
  }

  /** The HTTP server's `upgrade` event. */
  readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', destroySocket);
    void this.authorize(request, socket, head);
  };

  /** Waits (at most `ms`) until every socket's queued frames are stored and published. */
  async settle(ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.queueTails.values()]), delay(ms)]);
  }

  private async authorize(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { logger, metrics, settings } = this.options;
    let session: SessionInfo;
    try {
      if (this.options.isDraining()) throw errors.serviceUnavailable('网关正在重启，请连接其他节点');
      session = await authorizeUpgrade(request, { tokens: this.options.tokens, users: this.options.users, allowedOrigins: settings.allowed_origins, cap: this.cap });
    } catch (err) {
      const error = err instanceof AppError ? err : errors.serviceUnavailable();
      if (!(err instanceof AppError)) logger.error({ err: errorFields(err) }, 'upgrade check failed');
      metrics.upgradesRejected.inc({ status: String(error.status) });
      rejectUpgrade(socket, error);
      return;
    }
    (session.devices ? this.chatWss : this.wss).handleUpgrade(request, socket, head, (ws) => this.opened(ws as ConnectionSocket, session));
  }

  private opened(ws: ConnectionSocket, session: SessionInfo): void {
    const connection = new Connection(ws, session, this.limits, this.onShed);
    ws.connection = connection;
    if (!this.checkedPreparedFrames) {
      this.checkedPreparedFrames = true;
      if (!preparedFramesSupported(ws)) this.options.logger.warn('ws internals changed: frames are framed per socket (slower); see prepared-frame.ts');
    }
    this.options.metrics.connections.inc();
    this.registry.add(connection);
    ws.on('error', ignoreError);
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    const ready = this.enter(connection, session);
    connection.joining = ready;
    this.enqueued(connection, ready);
    void ready.then(() => {
      connection.joining = undefined;
    });
  }

  /** Puts the socket in its room, counts it online, catches it up; never rejects. */
  private async enter(connection: Connection, session: SessionInfo): Promise<void> {
    const { presence, feeds, announcer, catchUp, logger, metrics } = this.options;
    try {
      // `/api/chat`: no welcome; the client's resume frame is answered with the caught-up notice.
      if (connection.devices) {
        await this.options.devices.enter(connection);
        connection.joined = true;
        return;
      }
      if (session.lastId !== undefined) connection.startCatchUp();
      await feeds.join(connection, session.room, part1Channels(session.room, session.user.userId));
      connection.joined = true;
      const { firstConnection, onlineCount } = await presence.connect(session.room, session.user.userId);
      if (firstConnection) await announcer.joined(session.room, session.user, onlineCount);
      if (session.lastId !== undefined) await catchUp.run(connection, session.lastId);
      // Tells the client it is in the room, counted online, and (with last_id) caught up.
      connection.send(Buffer.from(JSON.stringify({ ...systemFrame(0, '已进入聊天室'), online_count: onlineCount })));
    } catch (err) {
      logger.error({ err: errorFields(err), room: session.room }, 'joining a room failed');
      metrics.redisErrors.inc({ operation: 'join' });
      connection.close(CloseCode.ServiceRestart, 'try again');
    }
  }

  private received(connection: Connection, raw: RawData, isBinary: boolean): void {
    const { messages, logger } = this.options;
    if (!admitFrame(messages.metrics, connection)) return;
    // Frames wait until the socket is in its room, then run one at a time, so a sender's
    // messages keep their order and count it as online.
    const tail = (this.queueTails.get(connection) ?? SETTLED).then(() =>
      (connection.devices ? handleChatFrame(this.options.chat, connection, raw, isBinary) : handleMessage(messages, connection, raw, isBinary)).catch((err) =>
        logger.error({ err: errorFields(err) }, 'message handling failed'),
      ),
    );
    this.enqueued(connection, tail);
  }

  /** Records the socket's newest queued work; the entry goes once the queue is empty. */
  private enqueued(connection: Connection, tail: Promise<void>): void {
    this.queueTails.set(connection, tail);
    void tail.then(() => {
      if (this.queueTails.get(connection) === tail) this.queueTails.delete(connection);
    });
  }

  /** Frames received before the close are still handled (the queue runs on by itself). */
  private async closed(connection: Connection): Promise<void> {
    const { presence, feeds, announcer, logger, metrics } = this.options;
    metrics.connections.dec();
    this.registry.remove(connection);
    if (connection.joining) await connection.joining;
    if (!connection.joined && !connection.devices) return;
    try {
      if (connection.devices) return await this.options.devices.leave(connection);
      feeds.leave(connection, connection.room);
      const { lastConnection, onlineCount } = await presence.disconnect(connection.room, connection.userId);
      if (lastConnection) await announcer.left(connection.room, connection.user, onlineCount);
    } catch (err) {
      metrics.redisErrors.inc({ operation: 'presence' });
      logger.warn({ err: errorFields(err) }, 'presence disconnect failed');
    }
  }

  private readonly onShed = (shed: Connection): void => {
    this.options.metrics.shed.inc();
    this.options.logger.warn({ user_id: shed.userId, room: shed.room }, 'slow consumer shed');
    shed.shed();
  };
}

function ignoreError(): void {}

/** The Connection of a socket the gateway opened (the server makes only ConnectionSockets). */
function connectionOf(ws: WebSocket): Connection {
  return (ws as ConnectionSocket).connection!;
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
