import { ErrorCode } from '@im/protocol';
import { ApiError } from './api-error.ts';
import { uploadMultipart, type UploadOptions } from './upload.ts';
import type { FetchLike } from './types.ts';

export type { FetchLike };

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  method?: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /** Send the session's token. @default true */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface HttpClientOptions {
  /** The server's public base URL, e.g. `http://127.0.0.1:8080`; '' for the page's own origin. */
  baseUrl: string;
  fetch: FetchLike;
  /** The current token, read on every call. */
  token: () => string | undefined;
  /** Called when the server says the token is no longer good (1003), so the app can sign out. */
  onUnauthenticated: () => void;
}

/** Answers in the contract's envelope `{code, data, msg}`: `data` on code 0, an ApiError otherwise. */
export class HttpClient {
  constructor(private readonly options: HttpClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** An absolute (or, with baseUrl '', origin-relative) URL for a path and query. */
  url(path: string, query: Record<string, QueryValue> = {}): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
    }
    const text = search.toString();
    const slash = path.startsWith('/') ? '' : '/';
    return `${this.options.baseUrl}${slash}${path}${text ? `?${text}` : ''}`;
  }

  /** Headers for a call that carries the token (uploads and downloads build their own requests). */
  authHeaders(): Record<string, string> {
    const token = this.options.token();
    return token ? { authorization: `bearer ${token}` } : {};
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = options.auth === false ? {} : this.authHeaders();
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await this.options.fetch(this.url(path, options.query), {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
        signal: options.signal,
      });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new ApiError(ErrorCode.Failure, 0, `network error: ${(err as Error)?.message ?? String(err)}`);
    }
    return this.envelope<T>(response.status, await response.text(), 'authorization' in headers);
  }

  /** Uploads `file` as the multipart field `file`, with the token; answers the envelope's data. */
  async upload<T>(path: string, query: Record<string, QueryValue>, file: Blob, fileName: string, options: UploadOptions = {}): Promise<T> {
    const answer = await uploadMultipart(this.options.fetch, this.url(path, query), this.authHeaders(), file, fileName, options);
    return this.envelope<T>(answer.status, answer.text, this.options.token() !== undefined);
  }

  /** Fetches raw bytes with the token (file downloads have no envelope unless they fail). */
  async download(path: string, query: Record<string, QueryValue>, signal?: AbortSignal): Promise<Blob> {
    let response: Response;
    try {
      response = await this.options.fetch(this.url(path, query), { headers: this.authHeaders(), signal });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new ApiError(ErrorCode.Failure, 0, `network error: ${(err as Error)?.message ?? String(err)}`);
    }
    if (response.ok) return response.blob();
    return this.envelope<never>(response.status, await response.text(), this.options.token() !== undefined);
  }

  /**
   * Parses an envelope answer (also used by uploads, which do not go through fetch in browsers).
   * `sentToken`: a 1003 then means the session is over (a wrong login code is a 1003 too).
   */
  envelope<T>(status: number, text: string, sentToken: boolean): T {
    let parsed: { code?: unknown; data?: unknown; msg?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError(ErrorCode.Failure, status, `not an API answer (HTTP ${status})`);
    }
    if (typeof parsed?.code !== 'number') throw new ApiError(ErrorCode.Failure, status, `not an API answer (HTTP ${status})`);
    if (parsed.code === ErrorCode.Ok) return parsed.data as T;
    const error = new ApiError(
      parsed.code,
      status,
      typeof parsed.msg === 'string' ? parsed.msg : 'request failed',
      typeof parsed.data === 'object' && parsed.data !== null ? (parsed.data as Record<string, unknown>) : {},
    );
    if (error.needsLogin && sentToken) this.options.onUnauthenticated();
    throw error;
  }
}
