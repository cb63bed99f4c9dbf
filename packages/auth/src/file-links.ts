import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed download links: a `url` that fetches a file without an Authorization header (browsers
 * load images with `<img>`, which cannot send one) until it expires. Whoever holds the link may
 * download the file meanwhile, as with S3's presigned URLs, so links are only handed to users
 * who may download the file themselves, and expire.
 *
 *   <download path>&expires=<unix seconds>&sig=<base64url HMAC-SHA256(key, "<file_name>\n<expires>")>
 *
 * Expiry is rounded up to a step (5 minutes, or the lifetime if shorter), so every link made for
 * one file within a step is the same URL and the browser's cache keeps working: a link lives at
 * least `ttlSeconds` and less than `ttlSeconds` + one step.
 */
export interface FileLinks {
  /** The signed link for a stored file, relative like `path` (no leading slash). */
  url(fileName: string, now?: Date): string;
  /**
   * Judges a link's `expires` and `sig` for `fileName`: `invalid` for anything this server did
   * not sign (forged, altered, malformed), `expired` for a genuine link past its time.
   */
  check(fileName: string, expires: string, sig: string, now?: Date): 'valid' | 'expired' | 'invalid';
}

export interface FileLinkOptions {
  /** The server secret; the signing key is derived from it, so there is one secret to manage. */
  secret: string;
  /** Lifetime of a link (`upload.url_ttl_seconds`). */
  ttlSeconds: number;
  /** The file's download path without signature, e.g. db's `downloadPath`. */
  downloadPath: (fileName: string) => string;
}

const MAX_STEP_SECONDS = 300;
const SIG = /^[A-Za-z0-9_-]{43}$/;
const EXPIRES = /^\d{1,12}$/;

export function createFileLinks({ secret, ttlSeconds, downloadPath }: FileLinkOptions): FileLinks {
  if (typeof secret !== 'string' || secret.length < 32) throw new TypeError('createFileLinks: secret must be at least 32 characters');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`createFileLinks: ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  // A key of its own, so a link's signature is never a valid token or login digest, nor the reverse.
  const key = createHmac('sha256', secret).update('im-cluster file links v1').digest();
  const step = Math.min(MAX_STEP_SECONDS, ttlSeconds);
  const sign = (fileName: string, expires: string) => createHmac('sha256', key).update(`${fileName}\n${expires}`).digest();

  return {
    url(fileName, now = new Date()) {
      const expires = String(Math.ceil((Math.floor(now.getTime() / 1000) + ttlSeconds) / step) * step);
      return `${downloadPath(fileName)}&expires=${expires}&sig=${sign(fileName, expires).toString('base64url')}`;
    },

    check(fileName, expires, sig, now = new Date()) {
      if (!EXPIRES.test(expires) || !SIG.test(sig)) return 'invalid';
      const given = Buffer.from(sig, 'base64url');
      const expected = sign(fileName, expires);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return Number(expires) * 1000 > now.getTime() ? 'valid' : 'expired';
    },
  };
}
