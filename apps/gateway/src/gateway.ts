import { createServer, type Server } from 'node:http';
import type { Broker } from '@im/bus';
import type { Config } from '@im/config';
import { createFileLinks, type TokenRevocations, type TokenService } from '@im/auth';
import { createSqlRunner, downloadPath, type ChatReader, type MessageWriter, type SqlRunner } from '@im/db';
import type { Logger } from '@im/logger';
import type { OfflineGrace, Presence } from '@im/presence';
import { CloseCode } from '@im/protocol';
import type { ConnectionRegistry } from './connections/connection-registry.ts';
import { errorFields } from './error-fields.ts';
import { Feeds } from './fanout/feeds.ts';
import { PresenceAnnouncer } from './fanout/presence-announcer.ts';
import { Publisher } from './fanout/publisher.ts';
import { RecentFramesBudget } from './fanout/recent-frames.ts';
import { TailCheck } from './fanout/tail-check.ts';
import { httpRoutes } from './http/http-routes.ts';
import type { ChatContext } from './devices/chat-context.ts';
import { Devices } from './devices/devices.ts';
import { PeerPresence } from './devices/peer-presence.ts';
import { RoomSizes } from './devices/room-sizes.ts';
import { RoomMemberships } from './devices/room-memberships.ts';
import { TypingThrottle } from './devices/typing-throttle.ts';
import { PrivateChats } from './messages/private-chats.ts';
import type { GatewayMetrics } from './http/metrics.ts';
import { readiness } from './http/readiness.ts';
import { CatchUp } from './sessions/catch-up.ts';
import { RevocationWatch } from './sessions/revocation-watch.ts';
import { Sessions } from './sessions/sessions.ts';
import { UserDirectory } from './upgrade/user-directory.ts';

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  /** Everything the gateway reads from MySQL (see ChatReader). */
  reader: ChatReader;
  writer: MessageWriter;
  broker: Broker;
  presence: Presence;
  tokens: TokenService;
  revocations: TokenRevocations;
  metrics: GatewayMetrics;
  /** How long a conversation nobody here is in stays subscribed (tests shorten it). @default 30_000 */
  feedIdleMs?: number;
  /** How often MySQL is checked for stored messages whose publish never arrived (tests shorten it). @default 5_000 */
  tailCheckMs?: number;
  /** How long a new `/api/chat` socket waits for its first resume frame (tests shorten it). @default DEVICE_HOLD_MS */
  deviceHoldMs?: number;
  /** The rooms and memberships pool, made from `config.mysql` when absent (tests wrap it); drain closes it. */
  sql?: SqlRunner;
  /** Where peers' offline notices wait out gateway.peer_offline_grace_ms (needed unless it is 0). */
  offlineGrace?: (graceMs: number) => OfflineGrace;
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
/**
 * How long an `/api/chat` socket's conversations wait for its first resume frame (see
 * Devices.enter); a resume being handled holds them until it is done. Clients send it as soon as
 * the socket opens: this only has to cover a slow link's round trip.
 */
const DEVICE_HOLD_MS = 3_000;
/** After a resume that failed as a whole: the SDK's longest reconnect backoff, so its next try finds the hold. */
const FAILED_RESUME_HOLD_MS = 30_000;
/** How often MySQL is checked for messages whose publish never arrived (see TailCheck). */
const TAIL_CHECK_MS = 5_000;
/** How often offline notices whose grace ran out are looked for: a small share of the grace, at most 1 s late. */
const offlineDueCheckMs = (graceMs: number) => Math.min(1_000, Math.max(50, Math.floor(graceMs / 4)));

/** The gateway's parts, wired once (see README "How a message travels"). */
interface Parts {
  feeds: Feeds;
  tailCheck: TailCheck;
  announcer: PresenceAnnouncer;
  sessions: Sessions;
  revocationWatch: RevocationWatch;
  sql: SqlRunner;
  peerPresence: PeerPresence;
}

/**
 * A gateway: its parts, the HTTP server that upgrades sockets, and what runs for the gateway as a
 * whole: control subscriptions, heartbeat, the periodic MySQL check, and drain.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { logger, broker, presence } = deps;
  let draining = false;
  const parts = buildParts(deps, () => draining);
  const { feeds, tailCheck, announcer, sessions, revocationWatch, peerPresence } = parts;
  const isReady = () => readiness({ ...deps, timeoutMs: deps.config.system.readiness_timeout_ms, isDraining: () => draining });
  const server = createServer(httpRoutes({ metrics: deps.metrics, isReady }));
  server.on('upgrade', sessions.upgrade);
  let timers: NodeJS.Timeout[] = [];
  let unsubscribeResync: (() => void) | undefined;

  return {
    server,

    async start() {
      await revocationWatch.start();
      presence.onReaped(({ room, userId, onlineCount }) => void announcer.leftById(room, userId, onlineCount));
      presence.onResynced(({ room, userId, onlineCount, online }) =>
        void (online ? announcer.joinedById(room, userId, onlineCount) : announcer.leftById(room, userId, onlineCount)),
      );
      // Users of a dead gateway (or repaired after a Redis loss): their private-chat peers are told.
      presence.onUserPresence(({ userId, online }) => void (online ? peerPresence.cameOnline(userId) : peerPresence.wentOffline(userId)));
      await presence.start();
      // After Redis comes back: fetch what pub/sub lost, and re-check tokens revoked meanwhile.
      unsubscribeResync = broker.onResubscribed(() => {
        logger.info('redis subscriptions restored; resyncing rooms from MySQL');
        void feeds.resyncAll();
        void revocationWatch.recheck();
      });
      // Without MySQL now, the first check starts the private scan instead.
      await tailCheck.start().catch(() => {});
      const checkTail = () => void tailCheck.run(feeds).catch((err) => logger.warn({ err: errorFields(err) }, 'tail check failed'));
      timers = [
        setInterval(() => heartbeat(sessions.registry), deps.config.gateway.heartbeat_ms),
        setInterval(checkTail, deps.tailCheckMs ?? TAIL_CHECK_MS),
      ];
      const graceMs = deps.config.gateway.peer_offline_grace_ms;
      if (graceMs > 0) timers.push(setInterval(() => void peerPresence.tellDue(), offlineDueCheckMs(graceMs)));
      for (const timer of timers) timer.unref();
    },

    async drain() {
      draining = true;
      for (const timer of timers) clearInterval(timer);
      sessions.registry.stop();
      unsubscribeResync?.();
      // Stop accepting. server.close()'s callback would wait for the upgraded sockets too, so
      // it is not awaited: the sockets are closed below.
      server.close();
      server.closeIdleConnections();
      await closeSockets(sessions);
      const left = await presence.stop().catch(() => []);
      await Promise.allSettled(left.map(({ room, userId, onlineCount }) => announcer.leftById(room, userId, onlineCount)));
      await feeds.close();
      await revocationWatch.stop();
      await parts.sql.close();
    },
  };
}

function buildParts(deps: GatewayDeps, isDraining: () => boolean): Parts {
  const { config, logger, reader, broker, presence, metrics } = deps;
  const settings = config.gateway;
  // Rooms, memberships, read cursors and private-chat rows, each call with its deadline (mysql.deadline_ms).
  const sql =
    deps.sql ?? createSqlRunner({ url: config.mysql.url, connectionLimit: config.mysql.gateway_membership_connections, deadlineMs: config.mysql.deadline_ms });
  const tailCheck = new TailCheck(reader);
  const feeds = new Feeds({
    broker, source: reader, logger,
    lookBackFloor: () => tailCheck.floorId,
    idleUnsubscribeMs: deps.feedIdleMs ?? 30_000,
    onReceived: (ms) => metrics.fanoutLatency.observe(Math.max(0, ms) / 1000),
    feed: { gapWaitMs: GAP_WAIT_MS, onDelivered: (n) => metrics.deliveries.inc(n), recent: new RecentFramesBudget(settings.catchup_buffer_bytes) },
  });
  const publisher = new Publisher({
    broker,
    feeds,
    onPublishFailed: (err, conversation) => {
      metrics.redisErrors.inc({ operation: 'publish' });
      logger.warn({ err: errorFields(err), room: conversation }, 'publish failed; stored messages reach peers through their MySQL check');
    },
    onPublishing: (kind, count) => metrics.publishes.inc({ kind }, count),
  });
  const users = new UserDirectory({ load: (ids) => reader.users(ids) });
  const announcer = new PresenceAnnouncer(publisher, users, settings.presence_notice_max_online);
  const catchUp = new CatchUp({ reader, feeds, metrics, pageSize: settings.catchup_page_size, drainBelowBytes: settings.max_buffered_bytes / 2 });
  const messages = {
    reader,
    writer: deps.writer,
    privateChats: new PrivateChats(sql),
    publisher,
    presence,
    broker,
    feeds,
    logger,
    metrics,
    maxContentChars: settings.max_content_chars,
  };
  const sign = createFileLinks({ secret: config.jwt.secret, ttlSeconds: config.upload.url_ttl_seconds, downloadPath }).url;
  const peerPresence = new PeerPresence({ sql, publisher, users, logger, online: presence, grace: offlineGraceOf(deps) });
  const memberships = new RoomMemberships(sql);
  const devices = new Devices({
    feeds, memberships, presence, sign, logger,
    holdMs: deps.deviceHoldMs ?? DEVICE_HOLD_MS,
    failedResumeHoldMs: FAILED_RESUME_HOLD_MS,
    onUserPresence: (connection, online) => void (online ? peerPresence.cameOnline(connection.userId, connection.user) : peerPresence.wentOffline(connection.userId)),
  });
  feeds.attachDevices(devices);
  const chat: ChatContext = {
    ...messages,
    devices,
    sql,
    memberships,
    users,
    sign: (fileName) => sign(fileName),
    catchUp,
    userPresence: presence,
    typing: new TypingThrottle(),
    roomSizes: new RoomSizes(sql),
    noticeMaxMembers: settings.presence_notice_max_online,
  };
  const sessions = new Sessions({
    settings,
    logger,
    metrics,
    tokens: deps.tokens,
    users,
    presence,
    feeds,
    announcer,
    catchUp,
    messages,
    devices,
    chat,
    isDraining,
  });
  const revocationWatch = new RevocationWatch(broker, deps.revocations, sessions.registry, {
    onError: (err) => logger.warn({ err: errorFields(err) }, 'revocation recheck failed; retrying'),
  });
  return { feeds, tailCheck, announcer, sessions, sql, peerPresence, revocationWatch };
}

/** Where peers' offline notices wait out gateway.peer_offline_grace_ms; none when it is 0 (told at once). */
function offlineGraceOf(deps: GatewayDeps): OfflineGrace | undefined {
  const graceMs = deps.config.gateway.peer_offline_grace_ms;
  if (graceMs === 0) return undefined;
  if (!deps.offlineGrace) throw new Error('createGateway: gateway.peer_offline_grace_ms needs deps.offlineGrace');
  return deps.offlineGrace(graceMs);
}

/** Drops sockets that missed the last ping, pings the others. */
function heartbeat(registry: ConnectionRegistry): void {
  for (const connection of registry.all()) {
    if (!connection.alive) {
      connection.ws.terminate();
      continue;
    }
    connection.alive = false;
    connection.ws.ping();
  }
}

/**
 * Drain's middle: lets queued frames finish, tells every client to reconnect elsewhere (1012),
 * stores what they send until they answer, then drops whoever is left.
 */
async function closeSockets(sessions: Sessions): Promise<void> {
  await sessions.settle(5_000);
  const sockets = [...sessions.registry.all()].map((connection) => connection.ws);
  const closedAll = sockets.map(
    (ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))),
  );
  for (const ws of sockets) ws.close(CloseCode.ServiceRestart, 'gateway restarting: reconnect with last_id');
  await Promise.race([Promise.all(closedAll), delay(3_000)]);
  // Frames that arrived before the clients answered the close are stored too.
  await sessions.settle(5_000);
  for (const connection of sessions.registry.all()) connection.ws.terminate();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
