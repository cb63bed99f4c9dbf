// Helpers shared by the files*/avatar* tests: multipart bodies built byte by byte (so tests control
// names, fields and content exactly), raw HTTP for paths fetch would normalise, and a view of the
// upload root's whole tree.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PNG } from 'pngjs';
import type { TestApi } from './support/start-api.ts';

export interface Part {
  field: string;
  /** Present for a file part; sent as raw UTF-8, as browsers do. */
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----im-test-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename.replace(/"/g, '%22')}"`;
    head += '\r\n';
    if (part.contentType ?? (part.filename !== undefined ? 'application/octet-stream' : undefined)) {
      head += `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n`;
    }
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The envelope, when the body is one. */
  json?: { code: number; data: any; msg: string };
}

/** One request over node:http with the path exactly as given (no URL normalisation). */
export function raw(
  api: TestApi,
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<RawAnswer> {
  const url = new URL(api.url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `bearer ${options.token}`;
  if (options.body) headers['content-length'] = String(options.body.length);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json;
        if (String(res.headers['content-type']).startsWith('application/json')) json = JSON.parse(body.toString('utf8'));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function upload(
  api: TestApi,
  token: string | undefined,
  parts: Part[],
  query = '',
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const { body, contentType } = multipart(parts);
  return raw(api, 'POST', `/api/files/upload${query}`, { token, body, headers: { 'content-type': contentType, ...headers } });
}

/** Uploads one file in the `file` field. */
export function uploadFile(api: TestApi, token: string | undefined, filename: string, data: Buffer | string, query = '') {
  return upload(api, token, [{ field: 'file', filename, data }], query);
}

export function download(api: TestApi, token: string | undefined, fileName: string, headers: Record<string, string> = {}) {
  return raw(api, 'GET', `/api/files/download?file=${encodeURIComponent(fileName)}`, { token, headers });
}

/** Every file below the upload root (temporary ones included), relative, sorted. */
export async function uploadTree(api: TestApi): Promise<string[]> {
  const entries = await readdir(api.uploadRoot, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(api.uploadRoot, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** A real PNG; `noise` makes it incompressible (for size limits). */
export function pngBytes(width: number, height: number, noise = false): Buffer {
  const png = new PNG({ width, height });
  const pixels = noise ? randomBytes(width * height * 4) : undefined;
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = pixels ? pixels[i * 4]! : (i * 7) & 0xff;
    png.data[i * 4 + 1] = pixels ? pixels[i * 4 + 1]! : (i * 13) & 0xff;
    png.data[i * 4 + 2] = pixels ? pixels[i * 4 + 2]! : 0x80;
    png.data[i * 4 + 3] = 0xff;
  }
  return PNG.sync.write(png);
}

/** The start of a PDF: what file-type needs to call it one. */
export const PDF_BYTES = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1');
/** An ELF executable's header. */
export const ELF_BYTES = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56, 1)]);
/** A Windows executable's header. */
export const EXE_BYTES = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00', 'latin1'), Buffer.alloc(48, 0)]);
/** A minimal zip archive (one stored entry). */
export const ZIP_BYTES = Buffer.concat([
  Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  Buffer.from([0, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0]),
  Buffer.from('a.txthello'),
]);
/** JPEG start of image + JFIF marker. */
export const JPEG_BYTES = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(200, 0x11), Buffer.from([0xff, 0xd9])]);
