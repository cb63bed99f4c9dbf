import {
  createFileLinks,
  createLoginCodes,
  createRedisRevocations,
  createTokenService,
  type FileLinks,
  type LoginCodes,
  type TokenRevocations,
  type TokenService,
} from '@im/auth';
import { createReadPicker, downloadPath, type SqlRunner } from '@im/db';
import type { ApiDeps } from './deps.ts';
import { createRateLimits, type RateLimits } from './rate-limits.ts';
import { createTypePolicy, type TypePolicy } from './files/file-types.ts';
import { createBusRoomEvents, type RoomEvents } from './rooms/room-events.ts';
import { createApiMetrics, type ApiMetrics } from './observability/metrics.ts';

/** Deps plus the services the routes share, built once per app. */
export interface ApiContext extends ApiDeps {
  tokens: TokenService;
  revocations: TokenRevocations;
  loginCodes: LoginCodes;
  limits: RateLimits;
  /** The upload allow-list (`upload.allowed_types`). */
  fileTypes: TypePolicy;
  /** Signed download links (Part 2 `url`). */
  fileLinks: FileLinks;
  /** Publishes room events (msg_type 11) for the gateways. */
  roomEvents: RoomEvents;
  /** Prometheus metrics of this app (`GET /metrics`). */
  metrics: ApiMetrics;
  /** Where an inbox page is read: the replica once it caught up with the primary, else the primary. */
  inboxSql: () => Promise<SqlRunner>;
}

export function buildServices(deps: ApiDeps): ApiContext {
  const { config, redis } = deps;
  const prefix = config.redis.prefix;
  // MySQL keeps every logout (the truth); Redis is the cache every check reads (see revocations.ts).
  const revocations = createRedisRevocations({
    redis,
    prefix,
    sharded: config.redis.sharded_pubsub,
    ledger: deps.revocationLedger,
    onError: (err) => deps.logger.warn({ err: { message: (err as Error)?.message } }, 'revocation not yet in Redis; retrying'),
  });
  const metrics = createApiMetrics();
  return {
    ...deps,
    metrics,
    revocations,
    tokens: createTokenService({
      secret: config.jwt.secret,
      issuer: config.jwt.issuer,
      expiresInSeconds: config.jwt.expires_in_seconds,
      revocations,
    }),
    loginCodes: createLoginCodes({
      redis,
      prefix,
      // A key of its own, derived from the JWT secret so operators manage one secret.
      secret: `login-code:${config.jwt.secret}`,
      ttlSeconds: config.email.code_ttl_seconds,
      maxAttempts: config.email.code_max_attempts,
    }),
    limits: createRateLimits(redis, prefix, config.rate_limit, (limit) => metrics.rateLimited.inc({ limit })),
    fileTypes: createTypePolicy(config.upload.allowed_types),
    fileLinks: createFileLinks({ secret: config.jwt.secret, ttlSeconds: config.upload.url_ttl_seconds, downloadPath }),
    roomEvents: createBusRoomEvents({ broker: deps.broker, logger: deps.logger }),
    inboxSql: createReadPicker({
      primary: deps.sql,
      replica: deps.replicaSql,
      waitMs: config.mysql.replica_wait_ms,
      onReplicaError: (err) => deps.logger.warn({ err: { message: (err as Error)?.message } }, 'read replica unavailable; reading the primary'),
    }),
  };
}
