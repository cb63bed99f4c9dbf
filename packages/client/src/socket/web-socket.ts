/**
 * The part of the WebSocket API the SDK uses: the browser's `WebSocket`, Node 22's, and the `ws`
 * package's all fit. Handlers take `any` because each implementation types its events its own way.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected ('' when none). */
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

/** `new WebSocket(url, protocols)`: pass `ws`'s class in Node 20, nothing in browsers. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * For clients that must build the socket themselves (Node: extra headers, an Origin, an agent).
 * `token` is there for `tokenIn: 'header'`, where the factory sends it as a header itself.
 */
export type WebSocketFactory = (url: string, protocols: string[] | undefined, token: string) => WebSocketLike;

/** The platform's WebSocket: `globalThis.WebSocket` (browsers, Node 22+), else undefined. */
export function platformWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** WebSocket.OPEN in every implementation. */
export const OPEN = 1;
