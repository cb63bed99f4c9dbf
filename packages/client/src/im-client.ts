import { ApiError } from './api-error.ts';
import { AccountsApi, type LoginInput, type LoginResult, type RegisterInput } from './api/accounts.ts';
import { ConversationsApi } from './api/conversations.ts';
import { FilesApi } from './api/files.ts';
import { HistoryApi } from './api/history.ts';
import { RoomsApi } from './api/rooms.ts';
import { HttpClient, type FetchLike } from './http-client.ts';
import { ChatSocket, type ChatSocketOptions } from './socket/chat-socket.ts';
import { Emitter } from './socket/emitter.ts';
import type { WebSocketConstructor, WebSocketFactory } from './socket/web-socket.ts';
import { isExpired, memoryTokenStore, type TokenStore } from './token-store.ts';
import type { ConversationId, PublicUser, Session } from './types.ts';

export interface ImClientOptions {
  /**
   * The server's public base URL (the front door), e.g. `http://127.0.0.1:8080`. In a browser,
   * '' or undefined means the page's own origin. Node needs an absolute URL.
   */
  baseUrl?: string;
  /** Where the session lives between page loads. @default memoryTokenStore() */
  tokenStore?: TokenStore;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /** For sockets: the WebSocket class. Browsers have one; in Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** For sockets: builds each WebSocket (Node: headers, Origin). Overrides `WebSocket`. */
  createWebSocket?: WebSocketFactory;
}

/** Socket options ImClient fills in itself (`url` defaults to the baseUrl's ws:// origin). */
export type SocketOptions = Omit<ChatSocketOptions, 'url' | 'endpoint' | 'token' | 'selfId' | 'checkToken'> & {
  /** Another place for this socket (a gateway's own port, a separate chat host). */
  url?: string;
};

export interface ImClientEvents extends Record<string, unknown[]> {
  /** Signed in (login) or out (logout, or the server refused the token: `expired` true). */
  session: [session: Session | null, info: { expired: boolean }];
}

/**
 * The SDK's entry point: accounts and the session, Part 1 and Part 2 HTTP calls, and chat
 * sockets that carry the session's token.
 *
 * ```ts
 * const im = new ImClient({ baseUrl: 'http://127.0.0.1:8080' });
 * await im.login({ email, password });            // { status: 'code-sent' }
 * await im.login({ email, password, code });      // { status: 'signed-in', session }
 * const group = im.groupSocket({ lastId });
 * group.on('message', (m) => console.log(m.username, m.content));
 * await group.connect();
 * await group.send({ msg_type: 4, content: 'hello' }).acked;
 * ```
 */
export class ImClient extends Emitter<ImClientEvents> {
  readonly http: HttpClient;
  readonly accounts: AccountsApi;
  readonly history: HistoryApi;
  readonly files: FilesApi;
  /** Part 2 (CONTRACT.md "Rooms"). */
  readonly rooms: RoomsApi;
  /** Part 2 (CONTRACT.md "The inbox"). */
  readonly conversations: ConversationsApi;

  private readonly store: TokenStore;
  private current: Session | null;
  private readonly options: ImClientOptions;

  constructor(options: ImClientOptions = {}) {
    super();
    this.options = options;
    this.store = options.tokenStore ?? memoryTokenStore();
    const loaded = this.store.load();
    this.current = loaded && !isExpired(loaded) ? loaded : null;
    const fetchImpl = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
    this.http = new HttpClient({
      baseUrl: (options.baseUrl ?? pageOrigin()).replace(/\/$/, ''),
      fetch: fetchImpl,
      token: () => this.token,
      onUnauthenticated: () => this.endSession(true),
    });
    this.accounts = new AccountsApi(this.http);
    this.history = new HistoryApi(this.http);
    this.files = new FilesApi(this.http);
    this.rooms = new RoomsApi(this.http);
    this.conversations = new ConversationsApi(this.http);
  }

  /** The signed-in session, or null. */
  get session(): Session | null {
    if (this.current && isExpired(this.current)) this.endSession(true);
    return this.current;
  }

  get user(): PublicUser | undefined {
    return this.session?.user;
  }

  /** The token while the session lasts. */
  get token(): string | undefined {
    return this.session?.token;
  }

  register(input: RegisterInput): Promise<PublicUser> {
    return this.accounts.register(input);
  }

  /** Step 1 (`{email, password}`) and step 2 (`{email, password, code}`); a token is kept in the store. */
  async login(input: LoginInput): Promise<LoginResult> {
    const result = await this.accounts.login(input);
    if (result.status === 'signed-in') {
      this.current = result.session;
      this.store.save(result.session);
      this.emit('session', result.session, { expired: false });
    }
    return result;
  }

  /** Revokes the token on the server (every socket it opened closes with 4001) and forgets it. */
  async logout(): Promise<void> {
    try {
      if (this.token) await this.accounts.logout();
    } catch (err) {
      // Already dead on the server is as good as logged out.
      if (!(err instanceof ApiError && err.needsLogin)) throw err;
    } finally {
      this.endSession(false);
    }
  }

  /**
   * Forgets the session here without asking the server: for a token the server already refused
   * (a socket closed with 4001/4002). `expired` tells 'session' listeners it ended by itself.
   */
  forgetSession(expired = true): void {
    this.endSession(expired);
  }

  /** A path the server answers relative to its root (`uploads/avatar/…`) as a URL for `<img>`. */
  assetUrl(path: string): string {
    if (/^(https?:|blob:|data:)/.test(path)) return path;
    return `${this.http.baseUrl}/${path.replace(/^\//, '')}`;
  }

  /** Part 1: the group room's socket. Pass `lastId` (0 for an empty room) so nothing is missed. */
  groupSocket(options: SocketOptions = {}): ChatSocket {
    return this.socket({ kind: 'group' }, options);
  }

  /** Part 1: the private conversation with `targetId`. */
  privateSocket(targetId: string, options: SocketOptions = {}): ChatSocket {
    return this.socket({ kind: 'private', targetId }, options);
  }

  /**
   * Part 2: one socket per device for every conversation (`/api/chat`). Pass `lastIds` of the
   * conversations you show (from the inbox); name `group` there or with `follow` to receive it.
   */
  chatSocket(options: SocketOptions & { lastIds?: Record<ConversationId, number> } = {}): ChatSocket {
    return this.socket({ kind: 'chat' }, options);
  }

  private socket(endpoint: ChatSocketOptions['endpoint'], options: SocketOptions): ChatSocket {
    return new ChatSocket({
      WebSocket: this.options.WebSocket,
      createWebSocket: this.options.createWebSocket,
      ...options,
      url: options.url ?? wsOrigin(this.http.baseUrl),
      endpoint,
      token: () => this.token,
      selfId: this.user?.user_id,
      checkToken: () => this.checkToken(),
    });
  }

  /** Whether the server still takes the token (a cheap authenticated call). */
  private async checkToken(): Promise<boolean> {
    if (!this.token) return false;
    try {
      await this.accounts.list({ limit: 1 });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.needsLogin) return false;
      throw err;
    }
  }

  private endSession(expired: boolean): void {
    if (!this.current) return;
    this.current = null;
    this.store.clear();
    this.emit('session', null, { expired });
  }
}

/** The page's origin in a browser; '' elsewhere (Node must pass baseUrl). */
function pageOrigin(): string {
  return (globalThis as { location?: { origin?: string } }).location?.origin ?? '';
}

/** `http://host` → `ws://host`; relative ('' in a browser) → the page's origin. */
function wsOrigin(baseUrl: string): string {
  const absolute = baseUrl || pageOrigin();
  return absolute.replace(/^http/, 'ws');
}
