import type { Prisma } from './generated/client.ts';

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
