import type { IncomingMessage } from 'node:http';
import { extractBearer, type TokenService } from '@im/auth';
import { errors, GROUP_CONVERSATION, privateConversation } from '@im/protocol';
import type { SessionInfo } from '../connections/connection.ts';
import type { ConnectionCap } from './connection-cap.ts';
import type { UserLookup } from './user-directory.ts';

export const GROUP_PATH = '/api/chat_groups';
export const PRIVATE_PATH = '/api/chat_private';
/** Part 2: one socket per device, every conversation of the user (docs/protocol-part2.md). */
export const CHAT_PATH = '/api/chat';

export interface AuthorizeOptions {
  tokens: TokenService;
  users: UserLookup;
  allowedOrigins: readonly string[];
  /** Takes the user's slot, last, once every other check passed (gateway.max_connections_per_user). */
  cap: ConnectionCap;
}

/**
 * Checks path, Origin, token, target and last_id. Throws the AppError to answer with; the caller
 * turns it into an HTTP response so a refused client never gets a socket.
 */
export async function authorizeUpgrade(request: IncomingMessage, options: AuthorizeOptions): Promise<SessionInfo> {
  const url = new URL(request.url ?? '/', 'http://gateway.invalid');
  if (url.pathname !== GROUP_PATH && url.pathname !== PRIVATE_PATH && url.pathname !== CHAT_PATH) throw errors.notFound('没有这个聊天接口');

  const origin = request.headers.origin;
  if (origin !== undefined && !originAllowed(origin, options.allowedOrigins)) {
    throw errors.forbidden('不允许的来源 (Origin)');
  }

  const token = tokenFrom(request, url);
  if (!token) throw errors.notAuthenticated('缺少登录令牌');
  const claims = await options.tokens.verify(token);

  const user = await options.users.get(claims.userId);
  if (!user) throw errors.notAuthenticated('用户不存在');

  if (url.pathname === CHAT_PATH) return { claims, user, room: '', devices: true };
  const lastId = parseLastId(url.searchParams.get('last_id'));

  if (url.pathname === GROUP_PATH) {
    options.cap.take(request.socket, user.userId);
    return { claims, user, room: GROUP_CONVERSATION, lastId };
  }

  const targetId = url.searchParams.get('target_id') ?? '';
  if (!/^[0-9a-f]{10}$/.test(targetId)) throw errors.invalidParameter('target_id 应为 10 位十六进制用户 id');
  if (targetId === user.userId) throw errors.invalidParameter('不能和自己私聊');
  const target = await options.users.get(targetId);
  if (!target) throw errors.notFound('目标用户不存在');
  options.cap.take(request.socket, user.userId);
  return { claims, user, room: privateConversation(user.userId, target.userId), target, lastId };
}

/**
 * The token from, in order: the `Authorization` query value (browsers cannot set headers), the
 * `Authorization` header, or the offered subprotocols `bearer, <jwt>`.
 */
function tokenFrom(request: IncomingMessage, url: URL): string | undefined {
  const fromQuery = extractBearer(url.searchParams.get('Authorization'));
  if (fromQuery) return fromQuery;
  const fromHeader = extractBearer(request.headers.authorization);
  if (fromHeader) return fromHeader;
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (offered[0]?.toLowerCase() === 'bearer' && offered[1]) return extractBearer(offered[1]);
  return undefined;
}

function originAllowed(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

function parseLastId(raw: string | null): bigint | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,19}$/.test(raw)) throw errors.invalidParameter('last_id 应为消息 id');
  return BigInt(raw);
}
