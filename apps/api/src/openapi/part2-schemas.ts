import { z } from 'zod';
import { conversationChatFrameSchema, ROOM_ROLES } from '@im/protocol';
import type { InboxItem } from '../conversations/list-inbox.ts';
import type { AddMembersResult } from '../rooms/add-members.ts';
import type { MemberView, RoomView } from '../rooms/room-view.ts';
import type { ConversationFileView } from '../files/file-view.ts';
import { fileSchema, pageOf } from './schemas.ts';

// Part 2's answers (docs/protocol-part2.md) as zod schemas, as schemas.ts does for Part 1; the
// views' TypeScript types are checked against them below.

const isoDate = z.iso.datetime({ offset: true });
const userId = z.string().regex(/^[0-9a-f]{10}$/);
const roomId = z.string().regex(/^[0-9a-f]{12}$/);
const roomRole = z.enum(ROOM_ROLES);
const conversation = z.string().meta({ description: 'group, r:<room_id> or p:<user_id>:<user_id>' });

export const roomSchema = z
  .strictObject({
    room_id: roomId,
    conversation: z.string().meta({ description: 'r:<room_id>' }),
    name: z.string(),
    owner_id: userId,
    member_count: z.int().min(0),
    created_at: isoDate,
    updated_at: isoDate,
    role: roomRole.optional().meta({ description: "The caller's role; absent once they left" }),
  })
  .meta({ id: 'Room' });

export const memberSchema = z
  .strictObject({ user_id: userId, user_name: z.string(), avatar: z.string(), role: roomRole, joined_at: isoDate })
  .meta({ id: 'RoomMember' });

export const roomWithMembersSchema = roomSchema
  .extend({ members: z.array(memberSchema).meta({ description: 'The owner, admins, then members, each by joining time' }) })
  .meta({ id: 'RoomWithMembers' });

export const addMembersResultSchema = z
  .strictObject({ room: roomSchema, added: z.array(userId), already_members: z.array(userId) })
  .meta({ id: 'AddMembersResult' });

export const inboxItemSchema = z
  .strictObject({
    conversation,
    kind: z.enum(['group', 'room', 'private']),
    title: z.string().meta({ description: "The room's name, the peer's user name, or 群聊" }),
    avatar: z.string().meta({ description: "The peer's avatar; empty for rooms and the group" }),
    last_message: conversationChatFrameSchema.nullable(),
    unread_count: z.int().min(0).max(99),
    unread_capped: z.boolean().meta({ description: 'More than 99 unread: show 99+' }),
    last_read_id: z.int().min(0).meta({ description: 'The read position: the read cursor or the caller\'s own last message, whichever is later' }),
    room: z.strictObject({ room_id: roomId, name: z.string(), member_count: z.int().min(0), role: roomRole }).optional(),
    peer: z.strictObject({ user_id: userId, user_name: z.string(), avatar: z.string(), online: z.boolean() }).optional(),
  })
  .meta({ id: 'InboxItem' });

export const inboxPageSchema = z
  .strictObject({ list: z.array(inboxItemSchema), next: z.string().nullable().meta({ description: 'Pass as before for the next page; null on the last' }) })
  .meta({ id: 'InboxPage' });

export const conversationPageSchema = pageOf(conversationChatFrameSchema, 'ConversationHistoryPage');

export const readCursorSchema = z
  .strictObject({ conversation, last_read_id: z.int().min(0), moved: z.boolean() })
  .meta({ id: 'ReadCursor' });

export const readPositionsSchema = z
  .strictObject({
    conversation,
    last_read_id: z.int().min(0).meta({ description: "The caller's read position, as in the inbox" }),
    others_read_id: z
      .int()
      .min(0)
      .nullable()
      .meta({ description: 'The furthest any other member has read; null in the group and in rooms above the presence notice limit' }),
  })
  .meta({ id: 'ReadPositions' });

export const conversationFileSchema = fileSchema
  .extend({
    conversation,
    url: z.string().meta({ description: 'Signed link that downloads without a header until its expires' }),
  })
  .meta({ id: 'ConversationFile', description: 'The answer to an upload with ?conversation=' });

type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>(_proof?: T) => undefined;
sameShape<Exactly<z.infer<typeof roomSchema>, RoomView>>();
sameShape<Exactly<z.infer<typeof memberSchema>, MemberView>>();
sameShape<Exactly<z.infer<typeof addMembersResultSchema>, AddMembersResult>>();
sameShape<Exactly<Omit<z.infer<typeof inboxItemSchema>, 'last_message'>, Omit<InboxItem, 'last_message'>>>();
sameShape<Exactly<z.infer<typeof conversationFileSchema>, ConversationFileView>>();
