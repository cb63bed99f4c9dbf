import { toChatFrame, type ChatMessageWithPeople } from '@im/db';
import { conversationFrame, type ConversationChatFrame } from '@im/protocol';
import type { ApiContext } from '../services.ts';

/** Stored messages as Part 2 frames: Part 1's frame, `conversation` first, file `url` signed now. */
export function toConversationFrames(ctx: ApiContext, messages: ChatMessageWithPeople[]): ConversationChatFrame[] {
  const now = new Date();
  const sign = (fileName: string) => ctx.fileLinks.url(fileName, now);
  return messages.map((message) => conversationFrame(toChatFrame(message), message.conversation, sign));
}
