import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import { verifyHs256 } from './hs256.ts';
import { errors } from '@im/protocol';
import type { TokenRevocations } from './revocations.ts';

/** What a verified token says about its bearer. */
export interface TokenClaims {
  userId: string;
  username: string;
  jti: string;
  expiresAt: Date;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  jti: string;
}

export interface TokenServiceOptions {
  /** HS256 key, at least 32 characters (config enforces it). */
  secret: string;
  issuer: string;
  expiresInSeconds: number;
  revocations: TokenRevocations;
}

export interface TokenService {
  issue(user: { userId: string; username: string }): Promise<IssuedToken>;
  /** Throws the contract's 1003 error for any missing, malformed, forged, expired or revoked token. */
  verify(token: string): Promise<TokenClaims>;
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  if (options.secret.length < 32) throw new Error('token secret must be at least 32 characters');
  const secretBytes = Buffer.from(options.secret, 'utf8');
  // Imported once for signing: given raw bytes, jose would import the key again on every call.
  const key = webcrypto.subtle.importKey('raw', secretBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

  return {
    async issue({ userId, username }) {
      const jti = randomUUID();
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + options.expiresInSeconds) * 1000);
      const token = await new SignJWT({ user_id: userId, username })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(options.issuer)
        .setJti(jti)
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .sign(await key);
      return { token, expiresAt, jti };
    },

    async verify(token) {
      // Any other algorithm (including `none`), issuer, or an expired token is refused there.
      const payload = verifyHs256(token, secretBytes, options.issuer);
      if (!payload) throw errors.notAuthenticated();
      const { sub, jti, exp, username } = payload;
      if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof username !== 'string') {
        throw errors.notAuthenticated();
      }
      if (await options.revocations.isRevoked(jti)) throw errors.notAuthenticated('登录已注销');
      return { userId: sub, username, jti, expiresAt: new Date(exp * 1000) };
    },
  };
}

/**
 * Pulls the JWT out of `bearer <jwt>` (any case) or accepts a bare JWT, as the original's `token`
 * header did. Returns undefined when nothing token-like is there.
 */
export function extractBearer(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const match = /^bearer\s+(\S+)$/i.exec(trimmed);
  if (match) return match[1];
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(trimmed) ? trimmed : undefined;
}
