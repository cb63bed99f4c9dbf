import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { conversationMessagesQuery, inboxQuery, readInput } from '../../conversations/schemas.ts';
import { conversationPageSchema, inboxPageSchema, readCursorSchema, readPositionsSchema } from '../part2-schemas.ts';
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
    get: {
      tags: ['inbox'],
      summary: 'How far the caller and the others have read',
      description:
        `${HIDDEN} For a client that missed read receipts (msg_type 9) while away: its own read position and the furthest any ` +
        'other member has read (their cursor or their own last message). others_read_id is null in the group and in rooms above ' +
        'the presence notice limit, where receipts do not go to the others.',
      security: signedIn,
      requestParams: { path: conversationPath },
      responses: jsonResponses('The read positions', readPositionsSchema, [400, 401, 404]),
    },
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
