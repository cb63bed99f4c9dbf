import { messageWithPeople, Prisma, type ChatMessageWithPeople, type Db } from '@im/db';
import type { HistoryQuery, HistorySort } from './schemas.ts';

// created_at is served as id order: the same order within a conversation, and it walks the
// (conversation, id) or (conversation, sender_id, id) index instead of sorting.
const ORDER: Record<HistorySort, Prisma.ChatMessageOrderByWithRelationInput[]> = {
  'created_at asc': [{ id: 'asc' }],
  'created_at desc': [{ id: 'desc' }],
  // Ties by id in the same direction, so `desc` is exactly `asc` reversed.
  'username asc': [{ sender: { username: 'asc' } }, { id: 'asc' }],
  'username desc': [{ sender: { username: 'desc' } }, { id: 'desc' }],
};

/** One page of the messages matching `where`, by OFFSET page or by id cursor. */
export function findPage(db: Db, where: Prisma.ChatMessageWhereInput, { limit, window }: HistoryQuery): Promise<ChatMessageWithPeople[]> {
  switch (window.kind) {
    case 'after':
      return db.chatMessage.findMany({
        where: { AND: [where, { id: { gt: window.afterId } }] },
        orderBy: ORDER['created_at asc'],
        take: limit,
        include: messageWithPeople,
      });
    case 'before':
      return db.chatMessage.findMany({
        where: { AND: [where, { id: { lt: window.beforeId } }] },
        orderBy: ORDER['created_at desc'],
        take: limit,
        include: messageWithPeople,
      });
    case 'page':
      return db.chatMessage.findMany({
        where,
        orderBy: ORDER[window.sort],
        skip: (window.page - 1) * limit,
        take: limit,
        include: messageWithPeople,
      });
  }
}
