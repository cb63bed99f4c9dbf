import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createMemoryRevocations, createTokenService, type TokenRevocations } from '@im/auth';
import { createMemoryBroker, createMemoryHub, type Broker, type MemoryHub } from '@im/bus';
import { loadConfig, type Config } from '@im/config';
import { createChatReader, createDb, createMessageWriter, createSqlRunner, type ChatReader, type Db, type MessageWriter, type NewChatMessage, type SqlRunner } from '@im/db';
import { createLogger } from '@im/logger';
import { createMemoryOfflineGrace, createMemoryPresence, createMemoryPresenceHub } from '@im/presence';
import { createTestDatabase, type TestDatabase } from '@im/testing';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { createMetrics, type GatewayMetrics } from '../../src/http/metrics.ts';

type GatewaySettings = Partial<Config['gateway']>;

/** One gateway of the in-process cluster, listening on a port of its own. */
export interface InProcessGateway {
  url: string;
  gateway: Gateway;
  metrics: GatewayMetrics;
  /** Whether this gateway was drained (its parts are closed by drain, not by the cluster). */
  drained: boolean;
  /** This gateway's bus traffic: its subscriptions now (channel → handlers) and every channel it published on. */
  bus: BusTally;
}

export interface BusTally {
  subscribed: Map<string, number>;
  published: string[];
}

/** The broker with its subscriptions and publishes tallied, for tests of what crosses the bus. */
function tallied(broker: Broker): { broker: Broker; bus: BusTally } {
  const bus: BusTally = { subscribed: new Map(), published: [] };
  const count = (channel: string, by: number) => {
    const n = (bus.subscribed.get(channel) ?? 0) + by;
    if (n === 0) bus.subscribed.delete(channel);
    else bus.subscribed.set(channel, n);
  };
  return {
    bus,
    broker: {
      ...broker,
      publish: (channel, payload) => (bus.published.push(channel), broker.publish(channel, payload)),
      publishMany: (messages) => (bus.published.push(...messages.map((m) => m.channel)), broker.publishMany(messages)),
      subscribe: async (channel, handler) => (await broker.subscribe(channel, handler), count(channel, 1)),
      unsubscribe: async (channel, handler) => (await broker.unsubscribe(channel, handler), count(channel, -1)),
    },
  };
}

export interface TestUser {
  userId: string;
  username: string;
  token: string;
  jti: string;
}

/**
 * Gateways as in production, in this process: real sockets, the real gateway code, real
 * MariaDB; the memory broker and memory presence stand in for Redis (their contract suites hold
 * them to the Redis implementations). A cluster test without processes to spawn.
 */
export interface InProcessCluster {
  gateways: InProcessGateway[];
  database: TestDatabase;
  config: Config;
  /** A broker on the same hub, for publishing as another gateway (or the API) would. */
  outsider: Broker;
  revocations: TokenRevocations;
  /** Writes straight to MySQL, as a gateway that dies before publishing would have. */
  writer: MessageWriter;
  reader: ChatReader;
  /** Log lines of warn and above, parsed. */
  logs: Array<Record<string, unknown>>;
  newUser(label?: string): Promise<TestUser>;
  /** A group message stored with the writer, never published. */
  storeQuietly(user: TestUser, content: string): Promise<{ id: number; seq: number }>;
  close(): Promise<void>;
}

let userCounter = 0;

export async function startInProcessCluster(
  options: {
    gateways?: number;
    settings?: GatewaySettings;
    feedIdleMs?: number;
    tailCheckMs?: number;
    /** Stands in for a gateway's reader (faults): gets the real one. */
    wrapReader?: (reader: ChatReader) => ChatReader;
    /** Stands in for a gateway's membership pool (faults): gets a real one. */
    wrapSql?: (sql: SqlRunner) => SqlRunner;
    deviceHoldMs?: number;
  } = {},
): Promise<InProcessCluster> {
  const database = await createTestDatabase();
  const config = loadConfig({
    env: { ...process.env, DATABASE_URL: database.url },
    overrides: { gateway: { presence_notice_max_online: 200, ...options.settings } },
  });
  const hub: MemoryHub = createMemoryHub();
  const presenceHub = createMemoryPresenceHub();
  const revocations = createMemoryRevocations();
  const tokens = createTokenService({ secret: config.jwt.secret, issuer: config.jwt.issuer, expiresInSeconds: 3_600, revocations });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ service: 'gateway-test', level: 'warn', destination });
  const db: Db = createDb({ url: database.url, connectionLimit: 2 });
  const writer = createMessageWriter({ url: database.url, connectionLimit: 2 });
  const reader = createChatReader({ url: database.url, connectionLimit: 2 });
  const parts: Array<{ close(): Promise<void> }> = [];

  const gateways: InProcessGateway[] = [];
  for (let i = 0; i < (options.gateways ?? 2); i += 1) {
    const gatewayReader = createChatReader({ url: database.url, connectionLimit: config.mysql.gateway_reader_connections });
    const gatewayWriter = createMessageWriter({ url: database.url, connectionLimit: config.mysql.gateway_writer_connections });
    const { broker, bus } = tallied(createMemoryBroker({ hub }));
    const presence = createMemoryPresence({ hub: presenceHub });
    const metrics = createMetrics(`in-process-${i}`);
    const gateway = createGateway({
      config,
      logger: logger.child({ gateway: i }),
      reader: options.wrapReader ? options.wrapReader(gatewayReader) : gatewayReader,
      writer: gatewayWriter,
      broker,
      presence,
      tokens,
      revocations,
      metrics,
      feedIdleMs: options.feedIdleMs,
      tailCheckMs: options.tailCheckMs,
      deviceHoldMs: options.deviceHoldMs,
      offlineGrace: (graceMs) => createMemoryOfflineGrace({ hub: presenceHub, graceMs }),
      sql: options.wrapSql?.(createSqlRunner({ url: database.url, connectionLimit: config.mysql.gateway_membership_connections })),
    });
    await gateway.start();
    gateway.server.listen(0, '127.0.0.1');
    await once(gateway.server, 'listening');
    const entry: InProcessGateway = {
      url: `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`,
      gateway,
      metrics,
      drained: false,
      bus,
    };
    gateways.push(entry);
    parts.push({
      close: async () => {
        if (!entry.drained) await gateway.drain();
        await broker.close();
        await gatewayWriter.close();
        await gatewayReader.close();
      },
    });
  }
  const outsider = createMemoryBroker({ hub });

  return {
    gateways,
    database,
    config,
    outsider,
    revocations,
    writer,
    reader,
    logs,
    async newUser(label = 'u') {
      userCounter += 1;
      const userId = randomBytes(5).toString('hex');
      const username = `${label}${userCounter}-${userId.slice(-4)}`;
      await db.user.create({ data: { userId, username, email: `${username}@example.com`, passwordHash: 'x', avatar: `uploads/avatar/${userId}.png` } });
      const { token, jti } = await tokens.issue({ userId, username });
      return { userId, username, token, jti };
    },
    async storeQuietly(user, content) {
      const message: NewChatMessage = {
        conversation: 'group',
        senderId: user.userId,
        targetId: null,
        msgType: 4,
        content,
        clientMsgId: null,
        fileId: null,
        onlineCount: 1,
      };
      const written = await writer.write(message);
      if (written.duplicate) throw new Error('not a resend');
      return { id: Number(written.id), seq: written.seq };
    },
    async close() {
      await Promise.all(parts.map((part) => part.close()));
      await outsider.close();
      await writer.close();
      await reader.close();
      await db.$disconnect();
      await database.drop();
    },
  };
}
