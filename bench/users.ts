import { randomBytes, randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { SignJWT } from 'jose';
import { createConnection } from 'mariadb';
import type { Config } from '@im/config';
import { poolConfigFromUrl } from '@im/db';

export interface BenchUser {
  userId: string;
  email: string;
  username: string;
  password: string;
  token: string;
}

/** Every bench user has this password (hashed once, the hash reused for all rows). */
export const BENCH_PASSWORD = 'bench password, long enough';

/**
 * Inserts `count` users straight into MySQL (1,000 rows per statement, one argon2 hash for all)
 * and mints each a JWT with the cluster's secret and issuer, as a login would. Tens of thousands
 * of users take seconds instead of the hours registration's argon2 would.
 */
export async function createUsers(databaseUrl: string, config: Config, count: number, label = 'b'): Promise<BenchUser[]> {
  const hash = await argon2.hash(BENCH_PASSWORD, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  const tag = randomBytes(3).toString('hex');
  const ids = new Set<string>();
  const users: Array<Omit<BenchUser, 'token'>> = [];
  while (users.length < count) {
    const userId = randomBytes(5).toString('hex');
    if (ids.has(userId)) continue;
    ids.add(userId);
    const i = users.length;
    users.push({ userId, email: `${label}${i}-${tag}@bench.test`, username: `${label}${i}_${tag}`, password: BENCH_PASSWORD });
  }
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    for (let at = 0; at < users.length; at += 1000) {
      const chunk = users.slice(at, at + 1000);
      const values = chunk.map(() => '(?, ?, ?, ?, ?, NOW(3), NOW(3))').join(', ');
      const params = chunk.flatMap((u) => [u.userId, u.email, u.username, hash, `uploads/avatar/${u.userId}.png`]);
      await conn.query(`INSERT INTO users (user_id, email, username, password_hash, avatar, created_at, updated_at) VALUES ${values}`, params);
    }
  } finally {
    await conn.end();
  }
  const key = new TextEncoder().encode(config.jwt.secret);
  const expiresAt = Math.floor(Date.now() / 1000) + config.jwt.expires_in_seconds;
  const tokens = await Promise.all(
    users.map((u) =>
      new SignJWT({ user_id: u.userId, username: u.username })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(u.userId)
        .setIssuer(config.jwt.issuer)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .sign(key),
    ),
  );
  return users.map((u, i) => ({ ...u, token: tokens[i]! }));
}

/** The gateway URL of a group or private chat socket for `user`. */
export function chatUrl(gatewayUrl: string, user: BenchUser, target?: BenchUser): string {
  const url = new URL(`${gatewayUrl.replace(/^http/, 'ws')}/api/chat_${target ? 'private' : 'groups'}`);
  if (target) url.searchParams.set('target_id', target.userId);
  url.searchParams.set('Authorization', `bearer ${user.token}`);
  return url.toString();
}

/** The Part 2 socket (`ws /api/chat`, one per device, every conversation on it) for `user`. */
export function part2Url(gatewayUrl: string, user: BenchUser): string {
  const url = new URL(`${gatewayUrl.replace(/^http/, 'ws')}/api/chat`);
  url.searchParams.set('Authorization', `bearer ${user.token}`);
  return url.toString();
}
