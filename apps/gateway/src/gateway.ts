import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TokenRevocations, TokenService } from '@im/auth';
import type { Broker } from '@im/bus';
import type { Config } from '@im/config';
import { messagesBySeq, pingDb, toChatFrame, type Db, type HistoryReader, type MessageWriter, type UserSummaryReader } from '@im/db';
import type { Logger } from '@im/logger';
import type { Presence } from '@im/presence';
import { AppError, CloseCode, errors, systemFrame } from '@im/protocol';
import { Connection, ConnectionSocket, type ConnectionLimits } from './connections/connection.ts';
import { prepareTextFrame, type PreparedFrame } from './connections/prepared-frame.ts';
import { ConnectionRegistry } from './connections/connection-registry.ts';
import { httpRoutes } from './http/http-routes.ts';
import type { GatewayMetrics } from './http/metrics.ts';
import { admitFrame, handleMessage, type MessageContext } from './messages/handle-message.ts';
import { PresenceAnnouncer } from './presence-announcer.ts';
import { Rooms, errorFields } from './rooms/rooms.ts';
import { RecentFramesBudget } from './rooms/recent-frames.ts';
import type { RoomFeedSource } from './rooms/room-feed.ts';
import { authorizeUpgrade, type SessionInfo } from './upgrade/authorize-upgrade.ts';
import { rejectUpgrade } from './upgrade/reject-upgrade.ts';
import { UserDirectory } from './upgrade/user-directory.ts';

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  db: Db;
  writer: MessageWriter;
  /** User lookups for upgrades and notices, off Prisma (see UserDirectory). */
  userSummaries: UserSummaryReader;
  /** Catch-up pages older than the recent frames in memory, off Prisma. */
  history: HistoryReader;
  broker: Broker;
  presence: Presence;
  tokens: TokenService;
  revocations: TokenRevocations;
  metrics: GatewayMetrics;
}

export interface Gateway {
  server: Server;
  /** Subscribes the control channels and starts the timers; call before listening. */
  start(): Promise<void>;
  /** SIGTERM: refuse new sockets, finish in-flight messages, tell clients to reconnect elsewhere. */
  drain(): Promise<void>;
}

/** How long an out-of-order message waits for its predecessors before MySQL fills the gap. */
const GAP_WAIT_MS = 50;
/** How often every room checks MySQL for messages whose publish never arrived. */
const TAIL_CHECK_MS = 5_000;
/** Catch-up cursors above this cannot be looked up in memory (ids are numbers there). */
const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, logger, db, writer, broker, presence, tokens, revocations, metrics } = deps;
  const settings = config.gateway;
  /**
   * Per socket with frames (or its join) in flight, the promise of the last one; an idle socket
   * has no entry. Drain waits for every queue to empty.
   */
  const queueTails = new Map<Connection, Promise<void>>();
  /** Every open socket, by token; closes each when its token expires. */
  const registry = new ConnectionRegistry((connection) => connection.close(CloseCode.TokenExpired, 'token expired'));
  const connectionLimits: ConnectionLimits = {
    maxBufferedBytes: settings.max_buffered_bytes,
    messagesPerSecond: settings.messages_per_second,
  };
  const onShed = (shed: Connection) => {
    metrics.shed.inc();
    logger.warn({ user_id: shed.userId, room: shed.room }, 'slow consumer shed');
    shed.shed();
  };
  let draining = false;

  const source: RoomFeedSource = {
    async head(room) {
      const row = await db.chatMessage.findFirst({ where: { conversation: room }, orderBy: { seq: 'desc' }, select: { id: true, seq: true } });
      return row ? { seq: Number(row.seq), id: Number(row.id) } : { seq: 0, id: 0 };
    },
    async lastSeqs(rooms) {
      const rows = await db.conversation.findMany({ where: { conversation: { in: rooms } } });
      return new Map(rows.map((row) => [row.conversation, Number(row.lastSeq)]));
    },
    async framesFrom(room, fromSeq, limit) {
      const rows = await messagesBySeq(db, room, BigInt(fromSeq), BigInt(fromSeq + limit - 1));
      return rows.map((row) => ({ seq: Number(row.seq), bytes: Buffer.from(JSON.stringify(toChatFrame(row))) }));
    },
  };
  const rooms = new Rooms({
    broker,
    source,
    logger,
    idleUnsubscribeMs: 30_000,
    onReceived: (ms) => metrics.fanoutLatency.observe(Math.max(0, ms) / 1000),
    feed: {
      gapWaitMs: GAP_WAIT_MS,
      onDelivered: (n) => metrics.deliveries.inc(n),
      recent: new RecentFramesBudget(settings.catchup_buffer_bytes),
    },
  });
  const users = new UserDirectory({ load: (ids) => deps.userSummaries.byIds(ids) });
  const announcer = new PresenceAnnouncer(broker, users, logger, settings.presence_notice_max_online);
  const messageContext: MessageContext = {
    db,
    writer,
    broker,
    presence,
    rooms,
    logger,
    metrics,
    maxContentChars: settings.max_content_chars,
  };

  const wss = new WebSocketServer({
    noServer: true,
    // The registry tracks the sockets; ws's own Set would cost a closure and an entry per socket.
    clientTracking: false,
    WebSocket: ConnectionSocket,
    perMessageDeflate: false,
    maxPayload: settings.max_payload_bytes,
    // Clients that send the token as subprotocols `bearer, <jwt>` get `bearer` back, never the token.
    handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
  });

  const server = createServer(
    httpRoutes({
      metrics,
      async isReady() {
        const mysql = await pingDb(db).then(
          () => 'ok' as const,
          () => 'down' as const,
        );
        const redis = broker.isHealthy() ? ('ok' as const) : ('down' as const);
        return { ready: mysql === 'ok' && redis === 'ok' && !draining, checks: { mysql, redis } };
      },
    }),
  );
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroySocket);
    void onUpgrade(request, socket, head);
  });

  async function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let session: SessionInfo;
    try {
      if (draining) throw errors.serviceUnavailable('网关正在重启，请连接其他节点');
      session = await authorizeUpgrade(request, {
        tokens,
        users,
        allowedOrigins: settings.allowed_origins,
      });
    } catch (err) {
      const error = err instanceof AppError ? err : errors.serviceUnavailable();
      if (!(err instanceof AppError)) logger.error({ err: errorFields(err) }, 'upgrade check failed');
      metrics.upgradesRejected.inc({ status: String(error.status) });
      rejectUpgrade(socket, error);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => onOpen(ws, session));
  }

  // Per-socket listeners are shared functions (`this` is the socket): a closure for each event of
  // each socket would cost ~100 bytes apiece on tens of thousands of idle sockets. Pongs are
  // counted by ConnectionSocket itself.
  function onMessage(this: WebSocket, raw: RawData, isBinary: boolean): void {
    const connection = connectionOf(this);
    if (!admitFrame(messageContext, connection)) return;
    // Frames wait until the socket is in its room, then run one at a time, so a sender's
    // messages keep their order and count it as online.
    const tail = (queueTails.get(connection) ?? SETTLED).then(() =>
      handleMessage(messageContext, connection, raw, isBinary).catch((err) =>
        logger.error({ err: errorFields(err) }, 'message handling failed'),
      ),
    );
    enqueued(connection, tail);
  }

  /** Records the socket's newest queued work; the entry goes once the queue is empty. */
  function enqueued(connection: Connection, tail: Promise<void>): void {
    queueTails.set(connection, tail);
    void tail.then(() => {
      if (queueTails.get(connection) === tail) queueTails.delete(connection);
    });
  }

  function onClose(this: WebSocket): void {
    void closed(connectionOf(this));
  }

  function onOpen(ws: ConnectionSocket, session: SessionInfo): void {
    const connection = new Connection(ws, session, connectionLimits, onShed);
    ws.connection = connection;
    metrics.connections.inc();
    registry.add(connection);
    ws.on('error', ignoreError);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    const ready = enterRoom(connection, session);
    connection.joining = ready;
    enqueued(connection, ready);
    void ready.then(() => {
      connection.joining = undefined;
    });
  }

  /** Frames received before the close are still handled (the queue runs on by itself). */
  async function closed(connection: Connection): Promise<void> {
    metrics.connections.dec();
    registry.remove(connection);
    if (connection.joining) await connection.joining;
    if (!connection.joined) return;
    rooms.leave(connection);
    try {
      const { lastConnection, onlineCount } = await presence.disconnect(connection.room, connection.userId);
      if (lastConnection) await announcer.left(connection.room, connection.user, onlineCount);
    } catch (err) {
      metrics.redisErrors.inc({ operation: 'presence' });
      logger.warn({ err: errorFields(err) }, 'presence disconnect failed');
    }
  }

  /** Puts the socket in its room, counts it online, catches it up; never rejects. */
  async function enterRoom(connection: Connection, session: SessionInfo): Promise<void> {
    try {
      if (session.lastId !== undefined) connection.startCatchUp();
      await rooms.join(connection);
      connection.joined = true;
      const { firstConnection, onlineCount } = await presence.connect(session.room, session.user.userId);
      if (firstConnection) await announcer.joined(session.room, session.user, onlineCount);
      if (session.lastId !== undefined) await catchUp(connection, session.lastId);
      // Tells the client it is in the room, counted online, and (with last_id) caught up.
      connection.send(Buffer.from(JSON.stringify({ ...systemFrame(0, '已进入聊天室'), online_count: onlineCount })));
    } catch (err) {
      logger.error({ err: errorFields(err), room: session.room }, 'joining a room failed');
      metrics.redisErrors.inc({ operation: 'join' });
      connection.close(CloseCode.ServiceRestart, 'try again');
    }
  }

  /**
   * Sends every stored message after `lastId`, page by page, then releases the live queue. Pages
   * come from the room's recent frames in memory when they reach back far enough (a reconnect
   * storm's thousands of clients resume from nearly the same place), otherwise from MySQL, where
   * clients asking for the same page at once share one query.
   */
  async function catchUp(connection: Connection, lastId: bigint): Promise<void> {
    const page = settings.catchup_page_size;
    let cursor = lastId;
    for (;;) {
      const feed = rooms.feed(connection.room);
      const recent = cursor <= MAX_SAFE_ID ? feed?.recentAfter(Number(cursor), page) : undefined;
      if (recent) {
        metrics.catchUpPages.inc({ source: 'memory' });
        connection.skipThrough(recent.throughSeq);
        connection.sendHistoryPage(recent.frames);
        const newest = recent.frames.at(-1);
        if (newest) cursor = BigInt(newest.id);
        if (!recent.more) break;
      } else {
        metrics.catchUpPages.inc({ source: 'mysql' });
        const frames = await historyPage(connection.room, cursor, page);
        connection.sendHistoryPage(frames);
        const newest = frames.at(-1);
        if (newest) cursor = newest.id;
        if (frames.length < page) {
          // MySQL holds nothing newer: the client has every message through the cursor, and live
          // frames at or below its seq are repeats — including ones this gateway has not
          // delivered yet, which is why the seq comes from MySQL when no page named it.
          if (frames.length === 0) connection.skipThrough(await seqThrough(connection.room, cursor));
          break;
        }
      }
      if (!connection.isOpen) break;
      await waitForDrain(connection.ws, settings.max_buffered_bytes / 2);
    }
    connection.finishCatchUp();
  }

  /** The seq of the room's newest message with id ≤ `id` (0 when there is none). */
  async function seqThrough(room: string, id: bigint): Promise<number> {
    const { messages } = await deps.history.findHistory({ conversation: room }, { kind: 'before', beforeId: id + 1n }, 1);
    return messages[0] ? Number(messages[0].seq) : 0;
  }

  /** A stored message framed for catch-up, with its place in the conversation. */
  type HistoryFrame = { seq: number; id: bigint; frame: PreparedFrame };

  /** Catch-up pages being read from MySQL, by room and cursor: identical requests share one. */
  const historyPages = new Map<string, Promise<HistoryFrame[]>>();
  function historyPage(room: string, afterId: bigint, limit: number): Promise<HistoryFrame[]> {
    const key = `${room}\t${afterId}\t${limit}`;
    let pending = historyPages.get(key);
    if (!pending) {
      pending = deps.history
        .findHistory({ conversation: room }, { kind: 'after', afterId }, limit)
        .then(({ messages }) =>
          messages.map((row) => ({ seq: Number(row.seq), id: row.id, frame: prepareTextFrame(Buffer.from(JSON.stringify(toChatFrame(row)))) })),
        )
        .finally(() => historyPages.delete(key));
      historyPages.set(key, pending);
    }
    return pending;
  }

  /** Waits (at most `ms`) until every socket's queued frames are stored and published. */
  async function settleQueues(ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...queueTails.values()]), delay(ms)]);
  }

  // Logout on any API replica closes that token's sockets here.
  const onRevoked = (payload: Buffer) => {
    for (const connection of registry.withJti(payload.toString())) connection.close(CloseCode.TokenRevoked, 'logged out');
  };

  let heartbeat: NodeJS.Timeout | undefined;
  let tailCheck: NodeJS.Timeout | undefined;
  let unsubscribeResync: (() => void) | undefined;

  return {
    server,

    async start() {
      await broker.subscribe('revocations', onRevoked);
      presence.onReaped(({ room, userId, onlineCount }) => void announcer.leftById(room, userId, onlineCount));
      presence.onResynced(({ room, userId, onlineCount, online }) =>
        void (online ? announcer.joinedById(room, userId, onlineCount) : announcer.leftById(room, userId, onlineCount)),
      );
      await presence.start();
      // After Redis comes back: fetch what pub/sub lost, and re-check tokens revoked meanwhile.
      unsubscribeResync = broker.onResubscribed(() => {
        logger.info('redis subscriptions restored; resyncing rooms from MySQL');
        void rooms.resyncAll();
        void recheckRevocations();
      });
      heartbeat = setInterval(() => {
        for (const connection of registry.all()) {
          if (!connection.alive) {
            connection.ws.terminate();
            continue;
          }
          connection.alive = false;
          connection.ws.ping();
        }
      }, settings.heartbeat_ms);
      tailCheck = setInterval(
        () => void rooms.resyncLagging().catch((err) => logger.warn({ err: errorFields(err) }, 'tail check failed')),
        TAIL_CHECK_MS,
      );
      heartbeat.unref();
      tailCheck.unref();
    },

    async drain() {
      draining = true;
      clearInterval(heartbeat);
      registry.stop();
      clearInterval(tailCheck);
      unsubscribeResync?.();
      // Stop accepting. server.close()'s callback would wait for the upgraded sockets too, so
      // it is not awaited: the sockets are closed below.
      server.close();
      server.closeIdleConnections();
      await settleQueues(5_000);
      const sockets = [...registry.all()].map((connection) => connection.ws);
      const closedAll = sockets.map(
        (ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))),
      );
      for (const ws of sockets) ws.close(CloseCode.ServiceRestart, 'gateway restarting: reconnect with last_id');
      await Promise.race([Promise.all(closedAll), delay(3_000)]);
      // Frames that arrived before the clients answered the close are stored too.
      await settleQueues(5_000);
      for (const connection of registry.all()) connection.ws.terminate();
      const left = await presence.stop().catch(() => []);
      await Promise.allSettled(left.map(({ room, userId, onlineCount }) => announcer.leftById(room, userId, onlineCount)));
      await rooms.close();
      await broker.unsubscribe('revocations', onRevoked).catch(() => {});
    },
  };

  /** A logout published while our subscription was down was missed: ask Redis directly. */
  async function recheckRevocations(): Promise<void> {
    for (const jti of [...registry.jtis()]) {
      if (!(await revocations.isRevoked(jti).catch(() => false))) continue;
      for (const connection of registry.withJti(jti)) connection.close(CloseCode.TokenRevoked, 'logged out');
    }
  }
}

/** The resolved promise an idle socket's first frame chains on. */
const SETTLED = Promise.resolve();

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

/** Waits until the socket's send buffer is below `bytes` (or it closed), polling cheaply. */
async function waitForDrain(ws: WebSocket, bytes: number): Promise<void> {
  while (ws.readyState === ws.OPEN && ws.bufferedAmount > bytes) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
