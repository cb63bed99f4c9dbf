import { isIP } from 'node:net';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const positiveInt = z.number().int().positive();
/** A deadline: long enough for a loaded loopback round trip, short enough to fail fast. */
const deadlineMs = z.number().int().min(50).max(120_000);
/** `host:port` of a server on another machine (IPv6 in brackets: `[::1]:7000`). */
const hostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 10.0.0.5:7000 or [::1]:7000')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

function isAddressOrRange(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** One receiver of signed webhooks (README "Offline notifications"). */
const webhookEndpoint = z.object({
  /** Names its queue, its metrics and its dead letters. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ and - only, at most 64'),
  url: z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL'),
  /** Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'must be whsec_ followed by the base64 of 24 to 64 random bytes'),
  events: z.array(z.enum(['message.offline'])).min(1, 'list at least one event'),
  /** Deliveries to this endpoint in flight at once. */
  concurrency: z.number().int().min(1).max(100).default(4),
});

const notificationsSchema = z.object({
  /** The worker tails stored messages and notifies offline recipients. */
  enabled: z.boolean(),
  poll_ms: z.number().int().min(20).max(60_000),
  batch_size: z.number().int().min(1).max(5000),
  /** Age after which a stored message's transaction has surely ended (see notifier.ts). */
  settle_ms: z.number().int().min(0),
  lease_ms: z.number().int().min(300),
  /** How long finished jobs stay in Redis, so a re-read message is recognised and not sent twice. */
  job_retention_seconds: positiveInt,
  webhooks: z.object({
    attempts: z.number().int().min(1).max(30),
    backoff_ms: z.number().int().min(0),
    timeout_ms: deadlineMs,
    endpoints: z
      .array(webhookEndpoint)
      .refine((list) => new Set(list.map((e) => e.name)).size === list.length, 'endpoint names must be unique'),
  }),
  digest: z.object({
    /** At most one digest mail per user per interval. */
    interval_seconds: positiveInt,
    /** Wait after the first message of a digest, so a burst arrives as one mail. */
    collect_seconds: z.number().int().min(0),
    /** Messages a mail lists; it counts the rest. */
    max_messages: z.number().int().min(1).max(500),
  }),
});

/** Shape and rules of config/settings.yaml after environment overrides. */
export const settingsSchema = z.object({
  system: z.object({
    env: z.enum(['development', 'production', 'test']),
    host: z.string().min(1),
    /** Where the start command's API, worker and gateways listen (the front door listens on `host`). */
    internal_host: z.string().min(1),
    port,
    api_port: port,
    /** Peers whose X-Forwarded-For is believed: IPv4/IPv6 addresses or CIDR ranges. */
    trusted_proxies: z.array(z.string().refine(isAddressOrRange, 'must be an IP address or CIDR range, e.g. 127.0.0.1 or 10.0.0.0/8')),
    readiness_timeout_ms: deadlineMs,
  }),
  mysql: z.object({
    url: z.string().regex(/^(mysql|mariadb):\/\//, 'must start with mysql:// or mariadb://'),
    /** A read replica of `url` for history pages and the inbox; empty: the primary serves them. */
    replica_url: z.union([z.literal(''), z.string().regex(/^(mysql|mariadb):\/\//, 'must start with mysql:// or mariadb://, or be empty')]),
    /** How long a read waits for the replica to catch up with the primary before it goes to the primary. */
    replica_wait_ms: z.number().int().min(0).max(10_000),
    connection_limit: positiveInt,
    connect_timeout_ms: deadlineMs,
    acquire_timeout_ms: deadlineMs,
    query_timeout_ms: deadlineMs,
    /** Longest a rooms/inbox/read-cursor call may take before it fails with 1500. */
    deadline_ms: z.number().int().min(50),
    /** Each gateway's message writer pool (commits are batched, several batches in flight). */
    gateway_writer_connections: positiveInt,
    /** Each gateway's chat reader pool: catch-up pages, gap fills, user lookups, files, readiness. */
    gateway_reader_connections: positiveInt,
    /** Each gateway's pool for `/api/chat` sockets' rooms, resume checks, read cursors and private-chat rows. */
    gateway_membership_connections: positiveInt,
  }),
  redis: z
    .object({
      url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://'),
      /** Seed nodes of a Redis Cluster; empty: `url` is one standalone server. */
      cluster_nodes: z.array(hostPort),
      prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,32}$/, 'letters, digits and _.:- only, at most 32'),
      sharded_pubsub: z.boolean(),
      connect_timeout_ms: deadlineMs,
      command_timeout_ms: deadlineMs,
    })
    // Plain PUBLISH on a cluster is copied to every node over the cluster bus: it works, but every
    // shard then carries every message, which is what a cluster is there to avoid.
    .refine((redis) => redis.cluster_nodes.length === 0 || redis.sharded_pubsub, {
      message: 'a Redis Cluster (cluster_nodes) needs sharded_pubsub: true (REDIS_SHARDED_PUBSUB=1)',
      path: ['sharded_pubsub'],
    }),
  log: z.object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  }),
  email: z.object({
    verification: z.boolean(),
    smtp_url: z.union([z.literal(''), z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')]),
    from: z.string().min(3),
    outbox_dir: z.string().min(1),
    code_ttl_seconds: positiveInt,
    code_max_attempts: positiveInt,
    worker_concurrency: z.number().int().min(1).max(100),
  }),
  jwt: z.object({
    /** Empty: development reads (or makes) `secret_file`; production refuses to start. */
    secret: z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]),
    secret_file: z.string().min(1),
    issuer: z.string().min(1),
    expires_in_seconds: positiveInt,
  }),
  rate_limit: z.object({
    login_per_ip: positiveInt,
    login_per_account: positiveInt,
    register_per_ip: positiveInt,
    window_seconds: positiveInt,
  }),
  upload: z.object({
    root: z.string().min(1),
    max_file_bytes: positiveInt,
    max_avatar_bytes: positiveInt,
    quota_bytes_per_user: positiveInt,
    /** File extensions `POST /api/files/upload` accepts (lowercase, no dot); see docs/protocol.md "Files". */
    allowed_types: z
      .array(z.string().regex(/^[a-z0-9]{1,10}$/, 'lowercase letters and digits, at most 10, no dot'))
      .min(1, 'list at least one type'),
    /** Lifetime of signed download links (Part 2 `url`), in seconds. */
    url_ttl_seconds: z.number().int().min(10).max(7 * 24 * 3600),
  }),
  web: z.object({
    /** The built web app (index.html, assets/) the front doors serve at `/`. */
    root: z.string().min(1),
  }),
  rooms: z
    .object({
      max_members: z.number().int().min(2),
      max_rooms_per_user: positiveInt,
      max_members_per_call: positiveInt,
    })
    .refine((rooms) => rooms.max_members_per_call <= rooms.max_members, {
      message: 'max_members_per_call may not exceed max_members',
      path: ['max_members_per_call'],
    }),
  /** What the front door (nginx) balances over when APIs or gateways run on other hosts. */
  front_door: z.object({
    apis: z.array(hostPort),
    gateways: z.array(hostPort),
  }),
  notifications: notificationsSchema,
  worker: z.object({
    /** The mail worker's HTTP port: /healthz, /readyz, /metrics. */
    port,
  }),
  gateway: z.object({
    count: z.number().int().min(1).max(64),
    base_port: port,
    port,
    id: z.string().regex(/^[A-Za-z0-9._:-]{0,64}$/, 'letters, digits and ._:- only, at most 64'),
    max_payload_bytes: z.number().int().min(256),
    max_content_chars: positiveInt,
    messages_per_second: positiveInt,
    heartbeat_ms: z.number().int().min(200),
    max_buffered_bytes: positiveInt,
    allowed_origins: z.array(z.string()),
    presence_lease_ms: z.number().int().min(300),
    presence_heartbeat_ms: z.number().int().min(100),
    catchup_page_size: z.number().int().min(1).max(5000),
    /** Connections the kernel queues for the gateway to accept (capped by net.core.somaxconn). */
    listen_backlog: z.number().int().min(1),
    /** Rooms with more users online than this stop announcing joins and leaves (msg_type 2/3). */
    presence_notice_max_online: z.number().int().min(0),
    /** A private-chat peer's "offline" notice waits this long for them to come back; 0 tells it at once. */
    peer_offline_grace_ms: z.number().int().min(0),
    /** Bytes of recent frames all rooms together keep for catch-up from memory; 0 turns it off. */
    catchup_buffer_bytes: z.number().int().min(0),
    /** Sockets one user may hold on one gateway; the newest handshake over it is refused. 0: no limit. */
    max_connections_per_user: z.number().int().min(0),
  }),
});

export type Settings = z.infer<typeof settingsSchema>;
