import type { Session } from './types.ts';

/**
 * Where the SDK keeps the signed-in session (token, expiry, user) between page loads. The SDK
 * reads it once at start, writes it after a login and clears it on logout or when the server
 * says the token is dead. Bring your own for secure storage on other platforms.
 */
export interface TokenStore {
  load(): Session | null;
  save(session: Session): void;
  clear(): void;
}

/** Forgets the session when the process or page goes away (Node, tests). */
export function memoryTokenStore(initial: Session | null = null): TokenStore {
  let session = initial;
  return {
    load: () => session,
    save: (next) => void (session = next),
    clear: () => void (session = null),
  };
}

/** The part of the Web Storage API the browser store uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Keeps the session in `localStorage` (or another Web Storage) under `key`, so a reload stays
 * signed in. An expired or unreadable entry loads as no session.
 */
export function webStorageTokenStore(storage: StorageLike, key = 'im.session'): TokenStore {
  return {
    load() {
      try {
        const session = JSON.parse(storage.getItem(key) ?? 'null') as Session | null;
        if (!session?.token || isExpired(session)) return null;
        return session;
      } catch {
        return null;
      }
    },
    save: (session) => storage.setItem(key, JSON.stringify(session)),
    clear: () => storage.removeItem(key),
  };
}

export function isExpired(session: Session, now = Date.now()): boolean {
  const expires = Date.parse(session.expires_at);
  return Number.isFinite(expires) && expires <= now;
}
