/**
 * Environment variables that override single keys of settings.yaml. Values are strings; the ones
 * bound to numeric or boolean keys are converted before validation so the schema can name the key
 * when a value is wrong.
 */
type Kind = 'string' | 'number' | 'boolean' | 'list';

const overrides: Record<string, { path: string[]; kind: Kind }> = {
  NODE_ENV: { path: ['system', 'env'], kind: 'string' },
  BIND_HOST: { path: ['system', 'host'], kind: 'string' },
  INTERNAL_HOST: { path: ['system', 'internal_host'], kind: 'string' },
  PORT: { path: ['system', 'port'], kind: 'number' },
  API_PORT: { path: ['system', 'api_port'], kind: 'number' },
  TRUSTED_PROXIES: { path: ['system', 'trusted_proxies'], kind: 'list' },
  DATABASE_URL: { path: ['mysql', 'url'], kind: 'string' },
  DATABASE_REPLICA_URL: { path: ['mysql', 'replica_url'], kind: 'string' },
  MYSQL_REPLICA_WAIT_MS: { path: ['mysql', 'replica_wait_ms'], kind: 'number' },
  MYSQL_QUERY_TIMEOUT_MS: { path: ['mysql', 'query_timeout_ms'], kind: 'number' },
  REDIS_URL: { path: ['redis', 'url'], kind: 'string' },
  REDIS_CLUSTER_NODES: { path: ['redis', 'cluster_nodes'], kind: 'list' },
  REDIS_COMMAND_TIMEOUT_MS: { path: ['redis', 'command_timeout_ms'], kind: 'number' },
  REDIS_PREFIX: { path: ['redis', 'prefix'], kind: 'string' },
  REDIS_SHARDED_PUBSUB: { path: ['redis', 'sharded_pubsub'], kind: 'boolean' },
  LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  EMAIL_VERIFICATION: { path: ['email', 'verification'], kind: 'boolean' },
  SMTP_URL: { path: ['email', 'smtp_url'], kind: 'string' },
  MAIL_FROM: { path: ['email', 'from'], kind: 'string' },
  MAIL_OUTBOX_DIR: { path: ['email', 'outbox_dir'], kind: 'string' },
  MAIL_WORKER_CONCURRENCY: { path: ['email', 'worker_concurrency'], kind: 'number' },
  JWT_SECRET: { path: ['jwt', 'secret'], kind: 'string' },
  JWT_SECRET_FILE: { path: ['jwt', 'secret_file'], kind: 'string' },
  JWT_EXPIRES_IN_SECONDS: { path: ['jwt', 'expires_in_seconds'], kind: 'number' },
  UPLOAD_ROOT: { path: ['upload', 'root'], kind: 'string' },
  WEB_ROOT: { path: ['web', 'root'], kind: 'string' },
  API_UPSTREAMS: { path: ['front_door', 'apis'], kind: 'list' },
  GATEWAY_UPSTREAMS: { path: ['front_door', 'gateways'], kind: 'list' },
  NOTIFICATIONS_ENABLED: { path: ['notifications', 'enabled'], kind: 'boolean' },
  WORKER_PORT: { path: ['worker', 'port'], kind: 'number' },
  GATEWAY_COUNT: { path: ['gateway', 'count'], kind: 'number' },
  GATEWAY_BASE_PORT: { path: ['gateway', 'base_port'], kind: 'number' },
  GATEWAY_PORT: { path: ['gateway', 'port'], kind: 'number' },
  GATEWAY_ID: { path: ['gateway', 'id'], kind: 'string' },
  GATEWAY_HEARTBEAT_MS: { path: ['gateway', 'heartbeat_ms'], kind: 'number' },
  GATEWAY_MAX_BUFFERED_BYTES: { path: ['gateway', 'max_buffered_bytes'], kind: 'number' },
  PRESENCE_LEASE_MS: { path: ['gateway', 'presence_lease_ms'], kind: 'number' },
  PRESENCE_HEARTBEAT_MS: { path: ['gateway', 'presence_heartbeat_ms'], kind: 'number' },
  PRESENCE_NOTICE_MAX_ONLINE: { path: ['gateway', 'presence_notice_max_online'], kind: 'number' },
  PEER_OFFLINE_GRACE_MS: { path: ['gateway', 'peer_offline_grace_ms'], kind: 'number' },
  GATEWAY_CATCHUP_BUFFER_BYTES: { path: ['gateway', 'catchup_buffer_bytes'], kind: 'number' },
  ALLOWED_ORIGINS: { path: ['gateway', 'allowed_origins'], kind: 'list' },
  GATEWAY_MAX_CONNECTIONS_PER_USER: { path: ['gateway', 'max_connections_per_user'], kind: 'number' },
};

/** Variables that once meant something and now would be silently ignored: refused with the way out. */
export const retiredVariables: Record<string, string> = {
  TRUST_PROXY: 'TRUST_PROXY was replaced by TRUSTED_PROXIES (addresses of the proxies whose X-Forwarded-For is believed, e.g. 127.0.0.1)',
};

export function applyEnvOverrides(settings: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, { path, kind }] of Object.entries(overrides)) {
    const raw = env[name];
    if (raw === undefined) continue;
    let target = settings;
    for (const key of path.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = convert(raw, kind);
  }
}

function convert(raw: string, kind: Kind): unknown {
  if (kind === 'list') return raw.split(',').map((item) => item.trim()).filter(Boolean);
  if (kind === 'number') return /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (kind === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    return raw;
  }
  return raw;
}
