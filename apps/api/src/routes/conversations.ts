import Router from '@koa/router';
import { ok } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { parseInput } from '../validation.ts';
import { conversationMessagesQuery, conversationParam, inboxQuery, readInput } from '../conversations/schemas.ts';
import { requireVisible } from '../conversations/access.ts';
import { listInbox } from '../conversations/list-inbox.ts';
import { conversationMessages } from '../conversations/conversation-messages.ts';
import { markRead } from '../conversations/mark-read.ts';
import { readPositionsOf } from '../conversations/read-positions.ts';

/** The inbox, per-conversation history and read cursors (CONTRACT.md Part 2, The inbox). */
export function conversationsRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/conversations' });
  const requireAuth = authenticate(ctx.tokens);

  router.get('/', requireAuth, async (http) => {
    const query = parseInput(inboxQuery, http.query);
    http.body = ok(await listInbox(ctx, http.state.auth.userId, query));
  });

  router.get('/:conversation/messages', requireAuth, async (http) => {
    const conversation = conversationParam(http.params.conversation);
    const query = parseInput(conversationMessagesQuery, http.query);
    await requireVisible(ctx, http.state.auth.userId, conversation);
    http.body = ok(await conversationMessages(ctx, conversation, query));
  });

  router.get('/:conversation/read', requireAuth, async (http) => {
    const conversation = conversationParam(http.params.conversation);
    await requireVisible(ctx, http.state.auth.userId, conversation);
    http.body = ok(await readPositionsOf(ctx, http.state.auth.userId, conversation));
  });

  router.post('/:conversation/read', requireAuth, async (http) => {
    const conversation = conversationParam(http.params.conversation);
    const { last_read_id: lastReadId } = parseInput(readInput, http.request.body);
    await requireVisible(ctx, http.state.auth.userId, conversation);
    http.body = ok(await markRead(ctx, http.state.auth.userId, conversation, lastReadId));
  });

  return router;
}
