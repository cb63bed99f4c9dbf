import Router from '@koa/router';
import { ok } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { parseInput } from '../validation.ts';
import { groupListInput, privateListInput } from '../history/schemas.ts';
import { listGroupHistory } from '../history/list-group.ts';
import { listPrivateHistory } from '../history/list-private.ts';

/** Chat history (docs/protocol.md, History). */
export function historyRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api' });
  const requireAuth = authenticate(ctx.tokens);

  router.get('/chat_groupList', requireAuth, async (http) => {
    const input = parseInput(groupListInput, http.query);
    http.body = ok(await listGroupHistory(ctx, input));
  });

  router.get('/chat_privateList', requireAuth, async (http) => {
    const input = parseInput(privateListInput, http.query);
    http.body = ok(await listPrivateHistory(ctx, http.state.auth.userId, input));
  });

  return router;
}
