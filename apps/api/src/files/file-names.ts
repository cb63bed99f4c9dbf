import { randomBytes } from 'node:crypto';

/**
 * Server-made names. `file_name` is what clients download by and reference in chat; the storage
 * key is where the bytes live. Neither contains anything the client sent.
 */
export const FILE_NAME_PATTERN = /^\d{13}-[0-9a-f]{16}\.[a-z0-9]{1,10}$/;

/** `<ms timestamp>-<16 hex>.<file_type>`, e.g. `1716200000000-3f9a0c1b2d4e5f60.png`. */
export function newFileName(fileType: string, now = new Date()): string {
  return `${String(now.getTime()).padStart(13, '0')}-${randomBytes(8).toString('hex')}.${fileType}`;
}

/** `files/<yyyy>/<mm>/<32 hex>`: spread over folders by month, unguessable, no extension. */
export function newStorageKey(now = new Date()): string {
  const year = now.getUTCFullYear();
  const month = String(now.getUTCMonth() + 1).padStart(2, '0');
  return `files/${year}/${month}/${randomBytes(16).toString('hex')}`;
}

const MAX_ORIGINAL_CHARS = 255;

/**
 * The name the user uploaded, kept as metadata: control characters and path separators are
 * dropped (browsers may send `C:\fakepath\x.png`), surrounding spaces trimmed, at most 255
 * characters (the extension is kept when shortening). Empty becomes `file`.
 */
export function cleanOriginalName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  let name = base.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '').trim();
  if (name === '.' || name === '..') name = '';
  const chars = [...name];
  if (chars.length > MAX_ORIGINAL_CHARS) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 ? [...name.slice(dot)].slice(0, 16) : [];
    name = chars.slice(0, MAX_ORIGINAL_CHARS - extension.length).join('') + extension.join('');
  }
  return name || 'file';
}
