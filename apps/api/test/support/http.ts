/** A parsed API answer: HTTP status plus the envelope. */
export interface Answer<T = any> {
  status: number;
  code: number;
  data: T;
  msg: string;
  headers: Headers;
}

export interface CallOptions {
  method?: string;
  /** An object is sent as JSON; a string is sent as it is (for malformed bodies). */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export async function call<T = any>(base: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  if (options.token) headers.authorization = `bearer ${options.token}`;
  const response = await fetch(base + path, { method: options.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await response.text();
  let envelope: { code: number; data: T; msg: string };
  try {
    envelope = JSON.parse(text);
  } catch {
    throw new Error(`${path}: not an envelope (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, ...envelope, headers: response.headers };
}
