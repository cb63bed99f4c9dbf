import { z } from 'zod';
import { ErrorCode } from './error-codes.ts';
import type { ChatFrame, PresenceFrame, SystemFrame } from './frames.ts';
import type { ConversationChatFrame, ReadFrame, RoomEventFrame, TypingFrame } from './conversation-frames.ts';
import { ROOM_EVENTS, ROOM_ROLES } from './rooms.ts';

// The WebSocket frames of the protocol (docs/protocol.md) as zod schemas. They are the description
// client authors get as JSON Schema (`wsFramesJsonSchema`, served at /api/ws-frames.schema.json)
// and the one the cluster tests hold every frame to (test/support/frame-check.ts); the API's
// OpenAPI document uses the chat frame for history items. The gateway parses client frames with
// its own schema (apps/gateway/src/messages/client-frame.ts), with its own error wording;
// test/cluster/frame-schemas.test.ts proves the two accept the same frames.
//
// A new frame: add its schema here with `.meta({ id })`, add it to `serverFrameSchema` or
// `clientFrameSchema`, and send it in a cluster test.

const userId = z.string().regex(/^[0-9a-f]{10}$/).meta({ description: '10 lowercase hex characters' });
const isoDate = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 with offset' });
const clientMsgId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
  .meta({ description: "The client's id for the message: 1-64 of A-Z a-z 0-9 _ . : -; a resend with the same id is the same message" });
const onlineCount = z.int().min(0);

const fileInfoSchema = z
  .strictObject({
    name: z.string().meta({ description: 'Unique server-made file name (the upload answer`s file_name)' }),
    original_name: z.string(),
    size: z.int().min(0),
    type: z.string().meta({ description: 'Lowercase extension: png, pdf, txt …' }),
    mime_type: z.string(),
    path: z.string().meta({ description: 'Relative download path: api/files/download?file=<name>' }),
  })
  .meta({ id: 'FileInfo', description: 'The uploaded file a file (5), progress (6) or image (7) frame refers to, filled in by the server' });

/** Who sent it; every frame about a user carries these. */
const sender = {
  user_id: userId,
  username: z.string(),
  avatar: z.string().meta({ description: 'Relative path the server serves, e.g. uploads/avatar/<user_id>.png' }),
};

/** Private frames also name the peer. */
const privatePeer = {
  target_id: userId,
  target_name: z.string(),
  target_avatar: z.string(),
};

const storedFields = {
  id: z.int().min(1).meta({ description: 'Server id, increasing in the order the conversation stores messages; use it as last_id' }),
  ...sender,
  msg_type: z.literal([4, 5, 7]).meta({ description: '4 text, 5 file, 7 image' }),
  content: z.string(),
  date: isoDate,
  online_count: onlineCount.meta({ description: 'Group: distinct users online in the room; private: how many of the two are online' }),
  client_msg_id: clientMsgId.optional(),
  file: fileInfoSchema.optional().meta({ description: 'On file (5) and image (7) messages' }),
};

export const groupChatFrameSchema = z
  .strictObject(storedFields)
  .meta({ id: 'GroupChatFrame', description: 'A stored message of the group room, live and in history' });

export const privateChatFrameSchema = z
  .strictObject({ ...storedFields, ...privatePeer })
  .meta({ id: 'PrivateChatFrame', description: 'A stored private message, live and in history' });

const chatFrameSchema = z.union([groupChatFrameSchema, privateChatFrameSchema]).meta({ id: 'ChatFrame' });

const fileNoticeFields = {
  ...sender,
  msg_type: z.literal(6),
  content: z.string(),
  date: isoDate,
  online_count: onlineCount,
  file: fileInfoSchema,
};

const fileNoticeFrameSchema = z
  .union([z.strictObject(fileNoticeFields), z.strictObject({ ...fileNoticeFields, ...privatePeer })])
  .meta({ id: 'FileNoticeFrame', description: 'msg_type 6: progress or download notice about a file, relayed to the room, never stored (no id)' });

const presenceFrameSchema = z
  .strictObject({
    ...sender,
    msg_type: z.literal([2, 3]).meta({ description: '2: the user came online in the room; 3: their last connection left' }),
    content: z.string(),
    date: isoDate,
    online_count: onlineCount,
  })
  .meta({ id: 'PresenceFrame', description: 'Join (2) and leave (3) notices, cluster-wide, not stored (no id)' });

const envelopeCodes = Object.values(ErrorCode) as [number, ...number[]];

const systemFrameSchema = z
  .strictObject({
    msg_type: z.literal(1),
    code: z.literal(envelopeCodes).meta({ description: '0 for notices (the welcome "已进入聊天室"), else an envelope error code' }),
    content: z.string(),
    date: isoDate,
    client_msg_id: clientMsgId.optional().meta({ description: 'On errors about a frame that carried one' }),
    online_count: onlineCount.optional().meta({ description: 'On the welcome notice' }),
  })
  .meta({ id: 'SystemFrame', description: 'msg_type 1, to one client only: errors, and the notice that the socket is in its room (and caught up)' });

const serverFrameSchema = z
  .union([chatFrameSchema, fileNoticeFrameSchema, presenceFrameSchema, systemFrameSchema])
  .meta({ id: 'ServerFrame', description: 'Every frame a gateway sends (Part 1: /api/chat_groups, /api/chat_private)' });

/** `file` as the gateway reads it on any frame: optional fields of these types. */
const fileFieldTypes = {
  name: z.string().max(128).optional(),
  id: z.union([z.string(), z.number()]).optional(),
};

const clientFields = {
  content: z.string().meta({ description: 'At most gateway.max_content_chars (4000) characters (1008 beyond)' }),
  client_msg_id: clientMsgId.optional(),
};

const textClientFrameSchema = z
  .looseObject({
    ...clientFields,
    content: clientFields.content.regex(/\S/, 'not only whitespace'),
    msg_type: z.literal(4),
    file: z.looseObject(fileFieldTypes).optional().meta({ description: 'Ignored on text' }),
  })
  .meta({ id: 'TextClientFrame', description: 'Text: content must not be empty or only whitespace' });

const fileClientFrameSchema = z
  .looseObject({
    ...clientFields,
    msg_type: z.literal([5, 6, 7]).meta({ description: '5 file, 6 file progress (relayed to the room, not stored), 7 image' }),
    file: z
      .union([
        z.looseObject({ ...fileFieldTypes, name: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) }),
        z.looseObject({ ...fileFieldTypes, id: z.union([z.string().regex(/^\d{1,19}$/), z.int().min(0)]) }),
      ])
      .meta({ description: 'The uploaded file: its file_name from the upload answer (or its numeric id)' }),
  })
  .meta({ id: 'FileClientFrame', description: 'A file the sender uploaded for this conversation (5, 7), or a progress notice about one (6)' });

const clientFrameSchema = z
  .union([textClientFrameSchema, fileClientFrameSchema])
  .meta({ id: 'ClientFrame', description: 'A frame a client sends (Part 1); unknown extra fields are ignored' });

// Part 2 (docs/protocol-part2.md): every frame about one conversation names it. The HTTP API
// already answers with the message frames (the inbox, conversation history); the rest describe
// `ws /api/chat`, which the gateway serves next. Apart from Part 1's roots, so a Part 1 socket's
// frames are still held to Part 1 alone.

const conversationId = z
  .string()
  .regex(/^(group|r:[0-9a-f]{12}|p:[0-9a-f]{10}:[0-9a-f]{10})$/)
  .meta({ id: 'ConversationId', description: 'group, r:<room_id> or p:<user_id>:<user_id> (the two ids ascending)' });

const conversationFileInfoSchema = fileInfoSchema
  .extend({
    url: z.string().meta({ description: 'Signed link, relative like path, that downloads without a header until its expires (docs/protocol-part2.md)' }),
  })
  .meta({ id: 'ConversationFileInfo', description: "Part 2's file object: Part 1's plus a signed url" });

const conversationStoredFields = { conversation: conversationId, ...storedFields, file: conversationFileInfoSchema.optional() };

export const conversationChatFrameSchema = z
  .union([
    z.strictObject(conversationStoredFields),
    z.strictObject({ ...conversationStoredFields, ...privatePeer }),
  ])
  .meta({ id: 'ConversationChatFrame', description: "A stored message in Part 2: Part 1's frame with conversation first (private ones name the peer)" });

const roomSummarySchema = z
  .strictObject({ room_id: z.string().regex(/^[0-9a-f]{12}$/), name: z.string(), owner_id: userId, member_count: z.int().min(0) })
  .meta({ id: 'RoomSummary' });

const roomEventFrameSchema = z
  .strictObject({
    conversation: conversationId,
    msg_type: z.literal(11),
    event: z.enum(ROOM_EVENTS),
    room: roomSummarySchema.meta({ description: 'The room right after the change' }),
    user_id: userId.optional().meta({ description: 'The member the event is about (absent for created and renamed)' }),
    role: z.enum(ROOM_ROLES).optional().meta({ description: 'member_added: the new role; role_changed: the role now held' }),
    by: userId.meta({ description: 'Who made the change (user_id itself when a member left)' }),
    date: isoDate,
  })
  .meta({ id: 'RoomEventFrame', description: 'msg_type 11: a membership change or rename, to the members and the member concerned; not stored' });

const typingFrameSchema = z
  .strictObject({ conversation: conversationId, msg_type: z.literal(8), user_id: userId, username: z.string(), date: isoDate })
  .meta({ id: 'TypingFrame', description: 'msg_type 8: someone is typing; relayed at most every 2 s per user and conversation, never stored' });

const readFrameSchema = z
  .strictObject({ conversation: conversationId, msg_type: z.literal(9), user_id: userId, last_read_id: z.int().min(0), date: isoDate })
  .meta({ id: 'ReadFrame', description: "msg_type 9: someone's read cursor moved" });

const conversationSystemFrameSchema = systemFrameSchema
  .extend({
    conversation: conversationId.optional().meta({ description: 'The conversation an error concerns; absent on the caught-up notice (code 0)' }),
  })
  .meta({
    id: 'ConversationSystemFrame',
    description: 'msg_type 1 on ws /api/chat, to one socket only: errors naming their conversation, and the caught-up notice after a resume',
  });

const conversationPresenceFrameSchema = presenceFrameSchema
  .extend({ conversation: conversationId })
  .meta({ id: 'ConversationPresenceFrame', description: 'msg_type 2/3 on ws /api/chat: a private-chat peer came online (2) or went offline (3)' });

const part2ServerFrameSchema = z
  .union([conversationChatFrameSchema, roomEventFrameSchema, typingFrameSchema, readFrameSchema, conversationSystemFrameSchema, conversationPresenceFrameSchema])
  .meta({ id: 'Part2ServerFrame', description: 'Every frame ws /api/chat sends: Part 1 frames with conversation, and Part 2 frames' });

const part2ClientFrameSchema = z
  .union([
    z.looseObject({ conversation: conversationId, msg_type: z.literal(8) }).meta({ id: 'TypingClientFrame' }),
    z
      .looseObject({ conversation: conversationId, msg_type: z.literal(9), last_read_id: z.int().min(1) })
      .meta({ id: 'ReadClientFrame', description: 'As POST /api/conversations/<conversation>/read' }),
    z
      .looseObject({ msg_type: z.literal(10), conversations: z.record(conversationId, z.int().min(0)) })
      .meta({ id: 'ResumeClientFrame', description: 'For each conversation the last id seen (0: none); naming group subscribes to it' }),
    textClientFrameSchema.extend({ conversation: conversationId }).meta({ id: 'ConversationTextClientFrame' }),
    fileClientFrameSchema
      .extend({ conversation: conversationId, msg_type: z.literal([5, 7]).meta({ description: '5 file, 7 image (no progress notices on /api/chat)' }) })
      .meta({ id: 'ConversationFileClientFrame' }),
  ])
  .meta({ id: 'Part2ClientFrame', description: 'Every client frame of ws /api/chat: messages (Part 1 frames plus conversation), typing, read, resume' });

/** The JSON Schema (2020-12) document of every frame, for client authors and the tests. */
export function wsFramesJsonSchema(): Record<string, unknown> {
  const $defs: Record<string, unknown> = {};
  for (const root of [serverFrameSchema, clientFrameSchema, part2ServerFrameSchema, part2ClientFrameSchema]) {
    // Schemas with an id land in $defs (the root too), referred to as #/$defs/<id>.
    const generated = z.toJSONSchema(root, { target: 'draft-2020-12', unrepresentable: 'throw' }) as { $defs?: Record<string, unknown> };
    Object.assign($defs, generated.$defs);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: WS_FRAMES_SCHEMA_ID,
    title: 'IM cluster WebSocket frames',
    description:
      'Client frames (ClientFrame) and server frames (ServerFrame) of docs/protocol.md; Part2ClientFrame and Part2ServerFrame add ' +
      'those of docs/protocol-part2.md',
    $defs,
  };
}

/** `$id` of the frames document; refer to a frame as `${WS_FRAMES_SCHEMA_ID}#/$defs/ServerFrame`. */
export const WS_FRAMES_SCHEMA_ID = 'https://im-cluster.invalid/schemas/ws-frames.json';

// What the schemas accept is what the server's own frame types allow (checked by tsc).
const fitsType = <Frame, Described extends Frame>(_proof?: Described) => undefined;
fitsType<ChatFrame, z.infer<typeof chatFrameSchema>>();
fitsType<PresenceFrame, z.infer<typeof presenceFrameSchema>>();
fitsType<SystemFrame, z.infer<typeof systemFrameSchema>>();
fitsType<ConversationChatFrame, z.infer<typeof conversationChatFrameSchema>>();
fitsType<RoomEventFrame, z.infer<typeof roomEventFrameSchema>>();
fitsType<TypingFrame, z.infer<typeof typingFrameSchema>>();
fitsType<ReadFrame, z.infer<typeof readFrameSchema>>();
