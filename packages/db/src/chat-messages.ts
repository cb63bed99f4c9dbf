import { Prisma } from './generated/client.ts';
import type { Db } from './create-db.ts';

/** A message to store; the store assigns `id` and `seq`. */
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
  file: true,
} satisfies Prisma.ChatMessageInclude;

export type ChatMessageWithPeople = Prisma.ChatMessageGetPayload<{ include: typeof messageWithPeople }>;

export interface StoreResult {
  message: ChatMessageWithPeople;
  /** True when the sender already stored a message with this client_msg_id: nothing new was written. */
  duplicate: boolean;
}

/**
 * Stores one message. The conversation's row in `conversations` is bumped first and stays locked
 * until commit, so writers of one conversation take turns: `seq` has no gaps and `id` grows with
 * it. A repeated (sender, client_msg_id) returns the original message instead of a second row.
 */
export async function storeChatMessage(db: Db, input: NewChatMessage): Promise<StoreResult> {
  if (input.clientMsgId) {
    const existing = await findByClientMsgId(db, input.senderId, input.clientMsgId);
    if (existing) return { message: existing, duplicate: true };
  }
  try {
    const message = await db.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO conversations (conversation, last_seq) VALUES (${input.conversation}, 1)
        ON DUPLICATE KEY UPDATE last_seq = last_seq + 1`;
      const [row] = await tx.$queryRaw<Array<{ last_seq: bigint }>>`SELECT last_seq FROM conversations
        WHERE conversation = ${input.conversation}`;
      return tx.chatMessage.create({ data: { ...input, seq: row!.last_seq }, include: messageWithPeople });
    });
    return { message, duplicate: false };
  } catch (err) {
    // Two resends raced past the lookup above: the unique key kept one; answer with it.
    if (input.clientMsgId && err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      const existing = await findByClientMsgId(db, input.senderId, input.clientMsgId);
      if (existing) return { message: existing, duplicate: true };
    }
    throw err;
  }
}

function findByClientMsgId(db: Db, senderId: string, clientMsgId: string) {
  return db.chatMessage.findUnique({
    where: { senderId_clientMsgId: { senderId, clientMsgId } },
    include: messageWithPeople,
  });
}

/** Messages of a conversation with id > `afterId`, oldest first: catch-up after `last_id`. */
export function messagesAfterId(db: Db, conversation: string, afterId: bigint, limit: number) {
  return db.chatMessage.findMany({
    where: { conversation, id: { gt: afterId } },
    orderBy: { id: 'asc' },
    take: limit,
    include: messageWithPeople,
  });
}

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
