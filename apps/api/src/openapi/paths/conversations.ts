import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { conversationMessagesQuery, inboxQuery, readInput } from '../../conversations/schemas.ts';
import { conversationPageSchema, inboxPageSchema, readCursorSchema } from '../part2-schemas.ts';
import { jsonResponses, signedIn } from '../responses.ts';

const conversationPath = z.object({
  conversation: z.string().meta({ description: 'group, r:<room_id> or p:<user_id>:<user_id> (ids ascending), URL-encoded' }),
});
const HIDDEN = 'A conversation the caller may not see answers 404 / 1005; a malformed id 1002.';

/** routes/conversations.ts (docs/protocol-part2.md, The inbox). */
export const conversationsPaths: ZodOpenApiPathsObject = {
  '/api/conversations': {
    get: {
      tags: ['inbox'],
      summary: "The caller's conversations, newest activity first",
      description:
        'group, every room of the caller, every private chat with a message; each with its last message (a Part 2 frame), unread ' +
        'count (capped at 99: unread_capped), read position, room or peer (with online). next pages on (pass it as before).',
      security: signedIn,
      requestParams: { query: inboxQuery },
      responses: jsonResponses('A page of the inbox', inboxPageSchema, [400, 401]),
    },
  },
  '/api/conversations/{conversation}/messages': {
    get: {
      tags: ['inbox'],
      summary: 'Messages of one conversation, oldest first',
      description: `${HIDDEN} No cursor: the latest limit messages; before_id: those just before it; after_id: those just after it. count is the conversation's total.`,
      security: signedIn,
      requestParams: { path: conversationPath, query: conversationMessagesQuery },
      responses: jsonResponses('A page of Part 2 frames', conversationPageSchema, [400, 401, 404]),
    },
  },
  '/api/conversations/{conversation}/read': {
    post: {
      tags: ['inbox'],
      summary: "Move the caller's read cursor (forward only)",
      description: `${HIDDEN} An id at or before the current read position changes nothing (moved: false); an id not in this conversation is 1002.`,
      security: signedIn,
      requestParams: { path: conversationPath },
      requestBody: { content: { 'application/json': { schema: readInput } } },
      responses: jsonResponses('Where the read position is now', readCursorSchema, [400, 401, 404]),
    },
  },
};
