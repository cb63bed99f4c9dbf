import { createServer, type Server } from 'node:http';
import { revocationChannel, type TokenRevocations, type TokenService } from '@im/auth';
import type { Broker } from '@im/bus';
import type { Config } from '@im/config';
import type { ChatReader, MessageWriter } from '@im/db';
import type { Logger } from '@im/logger';
import type { Presence } from '@im/presence';
import { CloseCode } from '@im/protocol';
import { errorFields } from './error-fields.ts';
import { Feeds } from './fanout/feeds.ts';
import { PresenceAnnouncer } from './fanout/presence-announcer.ts';
import { Publisher } from './fanout/publisher.ts';
import { RecentFramesBudget } from './fanout/recent-frames.ts';
import { httpRoutes } from './http/http-routes.ts';
import type { GatewayMetrics } from './http/metrics.ts';
import { CatchUp } from './sessions/catch-up.ts';
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
/** How often every feed checks MySQL for messages whose publish never arrived. */
const TAIL_CHECK_MS = 5_000;
/** The revocations channel: the API publishes it with the prefix, the broker adds ours. */
const REVOCATIONS = revocationChannel('');

/**
 * A gateway: the parts (feeds, publisher, sessions, catch-up) wired together, the HTTP server
 * that upgrades sockets, and what runs for the gateway as a whole: control subscriptions,
 * heartbeat, the periodic MySQL check, and drain.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config, logger, reader, broker, presence, revocations, metrics } = deps;
  const settings = config.gateway;
  let draining = false;

  const feeds = new Feeds({
    broker,
    source: reader,
    logger,
    idleUnsubscribeMs: 30_000,
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
  });
  const users = new UserDirectory({ load: (ids) => reader.users(ids) });
  const announcer = new PresenceAnnouncer(publisher, users, settings.presence_notice_max_online);
  const catchUp = new CatchUp({ reader, feeds, metrics, pageSize: settings.catchup_page_size, drainBelowBytes: settings.max_buffered_bytes / 2 });
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
    messages: { reader, writer: deps.writer, publisher, presence, broker, feeds, logger, metrics, maxContentChars: settings.max_content_chars },
    isDraining: () => draining,
  });
  const { registry } = sessions;

  const server = createServer(
    httpRoutes({
      metrics,
      async isReady() {
        const mysql = await reader.ping().then(
          () => 'ok' as const,
          () => 'down' as const,
        );
        const redis = broker.isHealthy() ? ('ok' as const) : ('down' as const);
        return { ready: mysql === 'ok' && redis === 'ok' && !draining, checks: { mysql, redis } };
      },
    }),
  );
  server.on('upgrade', sessions.upgrade);

  // Logout on any API replica closes that token's sockets here.
  const onRevoked = (payload: Buffer) => {
    for (const connection of registry.withJti(payload.toString())) connection.close(CloseCode.TokenRevoked, 'logged out');
  };
  /** A logout published while our subscription was down was missed: ask Redis directly. */
  async function recheckRevocations(): Promise<void> {
    for (const jti of [...registry.jtis()]) {
      if (!(await revocations.isRevoked(jti).catch(() => false))) continue;
      for (const connection of registry.withJti(jti)) connection.close(CloseCode.TokenRevoked, 'logged out');
    }
  }
  /** Drops sockets that missed the last ping, pings the others. */
  function beat(): void {
    for (const connection of registry.all()) {
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }

  let heartbeat: NodeJS.Timeout | undefined;
  let tailCheck: NodeJS.Timeout | undefined;
  let unsubscribeResync: (() => void) | undefined;

  return {
    server,

    async start() {
      await broker.subscribe(REVOCATIONS, onRevoked);
      presence.onReaped(({ room, userId, onlineCount }) => void announcer.leftById(room, userId, onlineCount));
      presence.onResynced(({ room, userId, onlineCount, online }) =>
        void (online ? announcer.joinedById(room, userId, onlineCount) : announcer.leftById(room, userId, onlineCount)),
      );
      await presence.start();
      // After Redis comes back: fetch what pub/sub lost, and re-check tokens revoked meanwhile.
      unsubscribeResync = broker.onResubscribed(() => {
        logger.info('redis subscriptions restored; resyncing rooms from MySQL');
        void feeds.resyncAll();
        void recheckRevocations();
      });
      heartbeat = setInterval(beat, settings.heartbeat_ms);
      tailCheck = setInterval(
        () => void feeds.resyncLagging().catch((err) => logger.warn({ err: errorFields(err) }, 'tail check failed')),
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
      await sessions.settle(5_000);
      const sockets = [...registry.all()].map((connection) => connection.ws);
      const closedAll = sockets.map(
        (ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))),
      );
      for (const ws of sockets) ws.close(CloseCode.ServiceRestart, 'gateway restarting: reconnect with last_id');
      await Promise.race([Promise.all(closedAll), delay(3_000)]);
      // Frames that arrived before the clients answered the close are stored too.
      await sessions.settle(5_000);
      for (const connection of registry.all()) connection.ws.terminate();
      const left = await presence.stop().catch(() => []);
      await Promise.allSettled(left.map(({ room, userId, onlineCount }) => announcer.leftById(room, userId, onlineCount)));
      await feeds.close();
      await broker.unsubscribe(REVOCATIONS, onRevoked).catch(() => {});
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
