import { findRoom, roomMembers, type Queryable } from '@im/db';
import { parseConversation, privatePeer } from '@im/protocol';
import type { RecipientReason } from './events.ts';
import { mentions } from './mentions.ts';

export interface StoredMessage {
  id: string;
  conversation: string;
  senderId: string;
  username: string;
  msgType: number;
  content: string;
  /** ISO 8601, UTC. */
  date: string;
}

export interface Recipient {
  userId: string;
  reason: RecipientReason;
}

export interface Addressees {
  recipients: Recipient[];
  room?: { room_id: string; name: string };
}

/**
 * Who a message is addressed to, never its sender: the peer of a private chat; in a room, every
 * member on `@all`, else the members it mentions. The global `group` room has no member list and
 * notifies nobody.
 */
export async function addresseesOf(sql: Queryable, message: StoredMessage): Promise<Addressees> {
  const conversation = parseConversation(message.conversation);
  if (conversation?.kind === 'private') {
    const peer = privatePeer(conversation, message.senderId);
    return { recipients: peer === undefined || peer === message.senderId ? [] : [{ userId: peer, reason: 'private' }] };
  }
  if (conversation?.kind !== 'room' || !message.content.includes('@')) return { recipients: [] };
  const [room, members] = await Promise.all([findRoom(sql, conversation.roomId), roomMembers(sql, conversation.id)]);
  const others = members.filter((m) => m.userId !== message.senderId);
  const everyone = mentions(message.content, 'all');
  const recipients = everyone
    ? others.map((m): Recipient => ({ userId: m.userId, reason: 'all' }))
    : others.filter((m) => mentions(message.content, m.username)).map((m): Recipient => ({ userId: m.userId, reason: 'mention' }));
  return { recipients, ...(room ? { room: { room_id: room.roomId, name: room.name } } : {}) };
}
