import type { Prisma } from './generated/client.ts';
import type { Db } from './create-db.ts';

/** A message to store; the writer (message-writer.ts) assigns `id` and `seq`. */
export interface NewChatMessage {
  conversation: string;
  senderId: string;
  targetId: string | null;
  msgType: number;
  content: string;
  clientMsgId: string | null;
  fileId: bigint | null;
  onlineCount: number;
}

/** What frames are built from: the row plus the people and file it names. */
export const messageWithPeople = {
  sender: { select: { userId: true, username: true, avatar: true } },
  target: { select: { userId: true, username: true, avatar: true } },
  // A frame never shows which conversation a file was uploaded for (the message says it).
  file: { omit: { conversation: true } },
} satisfies Prisma.ChatMessageInclude;

export type ChatMessageWithPeople = Prisma.ChatMessageGetPayload<{ include: typeof messageWithPeople }>;

/** Messages of a conversation with seq in [fromSeq, toSeq], in order: fills a gap in live delivery. */
export function messagesBySeq(db: Db, conversation: string, fromSeq: bigint, toSeq: bigint) {
  return db.chatMessage.findMany({
    where: { conversation, seq: { gte: fromSeq, lte: toSeq } },
    orderBy: { seq: 'asc' },
    include: messageWithPeople,
  });
}

/** The conversation's latest seq (0 when it has no messages yet). */
export async function lastSeq(db: Db, conversation: string): Promise<bigint> {
  const row = await db.conversation.findUnique({ where: { conversation } });
  return row?.lastSeq ?? 0n;
}
