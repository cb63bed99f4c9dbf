import type { Context } from 'koa';
import contentDisposition from 'content-disposition';
import rangeParser from 'range-parser';
import { ErrorCode } from '@im/protocol';
import type { Storage } from '@im/storage';

export interface StoredFile {
  storageKey: string;
  /** Bytes in storage (the truth for Content-Length). */
  size: number;
  mimeType: string;
  /** Offered to the browser in Content-Disposition; metadata only. */
  downloadName: string;
  /** Stable for the file's life: files are never rewritten. */
  etag: string;
  lastModified: Date;
}

/** Types a browser would run or render as a document; served as opaque bytes instead. */
const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'text/ecmascript',
  'application/ecmascript',
]);

/** The Content-Type to send for a stored mime type. */
export function safeContentType(mimeType: string): string {
  const base = mimeType.split(';')[0]!.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(base)) return 'application/octet-stream';
  if (ACTIVE_TYPES.has(base) || base.endsWith('+xml') || base.startsWith('multipart/')) return 'application/octet-stream';
  return base.startsWith('text/') ? `${base}; charset=utf-8` : base;
}

/**
 * Streams a stored file as a download: `attachment` with the UTF-8 name (RFC 6266/5987), nosniff,
 * a sandboxing CSP, ETag/Last-Modified (304 on a match), and one byte range per request
 * (`Range` → 206; several ranges get the whole body with 200; unsatisfiable → 416).
 */
export function sendStoredFile(http: Context, storage: Storage, file: StoredFile): void {
  http.set('Accept-Ranges', 'bytes');
  http.set('X-Content-Type-Options', 'nosniff');
  http.set('Content-Security-Policy', "default-src 'none'; sandbox");
  http.set('Cache-Control', 'private, no-cache');
  http.set('Content-Disposition', contentDisposition(file.downloadName, { type: 'attachment' }));
  http.set('ETag', file.etag);
  http.lastModified = file.lastModified;

  http.status = 200;
  if (http.fresh) {
    http.status = 304;
    return;
  }

  let range: { start: number; end: number } | undefined;
  const header = http.get('Range');
  if (header && ifRangeMatches(http, file)) {
    const ranges = rangeParser(file.size, header, { combine: true });
    if (ranges === -1) {
      http.status = 416;
      http.set('Content-Range', `bytes */${file.size}`);
      http.remove('Content-Disposition');
      http.body = { code: ErrorCode.InvalidParameter, data: {}, msg: '请求的范围无法满足' };
      return;
    }
    // -2 (malformed) is ignored as RFC 9110 says; several ranges are answered with the whole body.
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) range = ranges[0];
  }

  http.type = safeContentType(file.mimeType);
  if (range) {
    http.status = 206;
    http.set('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
    http.body = storage.read(file.storageKey, range);
    http.length = range.end - range.start + 1;
  } else {
    http.body = file.size === 0 ? Buffer.alloc(0) : storage.read(file.storageKey);
    http.length = file.size;
  }
}

/** `If-Range` with a stale validator means "send the whole file". */
function ifRangeMatches(http: Context, file: StoredFile): boolean {
  const ifRange = http.get('If-Range');
  if (!ifRange) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === file.etag;
  const since = Date.parse(ifRange);
  return Number.isFinite(since) && Math.floor(file.lastModified.getTime() / 1000) * 1000 <= since;
}
