import { GROUP_CONVERSATION, privateConversation } from '@im/protocol';

/**
 * The conversation a stored file belongs to, which decides who may download it and where it may
 * be sent. Uploads record it; rows without it (written before rooms, or by hand) follow Part 1's
 * rule: no target is a group file, a target makes it the private chat of uploader and target.
 */
export function fileConversation(file: { conversation: string | null; ownerId: string; targetId: string | null }): string {
  if (file.conversation !== null) return file.conversation;
  return file.targetId === null ? GROUP_CONVERSATION : privateConversation(file.ownerId, file.targetId);
}
