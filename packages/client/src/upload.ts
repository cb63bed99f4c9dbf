import { ErrorCode } from '@im/protocol';
import { ApiError } from './api-error.ts';
import type { FetchLike } from './types.ts';

/** Slice size of streamed (Node) uploads: progress granularity. */
const UPLOAD_CHUNK_BYTES = 64 * 1024;

export interface UploadProgress {
  /** Bytes of the request body sent so far (the multipart envelope included). */
  loaded: number;
  total: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** What an upload answers before the envelope is read. */
export interface RawAnswer {
  status: number;
  text: string;
}

/** The slice of XMLHttpRequest used here (the SDK compiles without the DOM library). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/**
 * POSTs `file` as the multipart field `file` with progress. Browsers have no upload progress on
 * fetch over HTTP/1.1 (streaming request bodies need HTTP/2 there), so they use XMLHttpRequest,
 * whose `upload.onprogress` counts bytes as they leave. Node has no XMLHttpRequest: there the
 * body is a counted stream handed to fetch.
 */
export function uploadMultipart(
  fetchImpl: FetchLike,
  url: string,
  headers: Record<string, string>,
  file: Blob,
  fileName: string,
  options: UploadOptions = {},
): Promise<RawAnswer> {
  const form = new FormData();
  form.append('file', file, fileName);
  const Xhr = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  return Xhr ? viaXhr(Xhr, url, headers, form, options) : viaFetchStream(fetchImpl, url, headers, form, options);
}

function viaXhr(Xhr: new () => Xhr, url: string, headers: Record<string, string>, form: FormData, options: UploadOptions): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    xhr.open('POST', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.({ loaded: event.loaded, total: event.total });
    };
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => options.signal?.removeEventListener('abort', onAbort);
    xhr.onload = () => {
      done();
      resolve({ status: xhr.status, text: xhr.responseText });
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(ErrorCode.Failure, 0, 'network error during upload'));
    };
    xhr.onabort = () => {
      done();
      reject(abortError());
    };
    if (options.signal?.aborted) {
      xhr.abort();
      return;
    }
    xhr.send(form);
  });
}

async function viaFetchStream(
  fetchImpl: FetchLike,
  url: string,
  headers: Record<string, string>,
  form: FormData,
  options: UploadOptions,
): Promise<RawAnswer> {
  // Let the platform write the multipart body (boundary included), then count it out.
  const encoded = new Request('http://upload.invalid/', { method: 'POST', body: form });
  const contentType = encoded.headers.get('content-type')!;
  const whole = await encoded.blob();
  const total = whole.size;
  let loaded = 0;
  // Pulled a slice at a time, so progress moves as undici writes the body to the socket.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (loaded >= total) {
        controller.close();
        return;
      }
      const chunk = new Uint8Array(await whole.slice(loaded, loaded + UPLOAD_CHUNK_BYTES).arrayBuffer());
      loaded += chunk.byteLength;
      options.onProgress?.({ loaded, total });
      controller.enqueue(chunk);
    },
  });
  try {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': contentType },
      body,
      signal: options.signal,
      // Required by fetch for a streamed request body.
      duplex: 'half',
    } as RequestInit);
    return { status: response.status, text: await response.text() };
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(ErrorCode.Failure, 0, `network error during upload: ${(err as Error)?.message ?? String(err)}`);
  }
}

function abortError(): Error {
  const error = new Error('upload aborted');
  error.name = 'AbortError';
  return error;
}
