import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { groupChatFrameSchema, privateChatFrameSchema } from '@im/protocol';
import { groupListInput, privateListInput } from '../../history/schemas.ts';
import { pageOf } from '../schemas.ts';
import { jsonResponses, signedIn } from '../responses.ts';

/** routes/history.ts: items have the live frame's shape (the WebSocket frames' schema). */
export const historyPaths: ZodOpenApiPathsObject = {
  '/api/chat_groupList': {
    get: {
      tags: ['history'],
      summary: 'Messages of the group room',
      description:
        'Pages (page, sort) or cursors: after_id (oldest first, to catch up) and before_id (newest first, to scroll back). ' +
        'username filters by sender; empty or unknown shows all.',
      security: signedIn,
      requestParams: { query: groupListInput },
      responses: jsonResponses('A page of group messages', pageOf(groupChatFrameSchema, 'GroupHistoryPage'), [400, 401]),
    },
  },
  '/api/chat_privateList': {
    get: {
      tags: ['history'],
      summary: "The caller's private messages, with one peer or all",
      description: 'The peer by username or target_id; neither lists every private message the caller sent or received.',
      security: signedIn,
      requestParams: { query: privateListInput },
      responses: jsonResponses('A page of private messages', pageOf(privateChatFrameSchema, 'PrivateHistoryPage'), [400, 401, 404]),
    },
  },
};
