import { fileConversation, roomRole, type File } from '@im/db';
import { parseConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';

/**
 * Who may download a file with their token, by the conversation it was uploaded for: a group
 * file anyone signed in; a private file its two participants (uploader and target, as in
 * Part 1); a room file the room's current members, and its uploader even after leaving.
 */
export async function mayDownload(ctx: ApiContext, userId: string, file: File): Promise<boolean> {
  if (file.ownerId === userId) return true;
  const conversation = parseConversation(fileConversation(file));
  if (!conversation) return false;
  switch (conversation.kind) {
    case 'group':
      return true;
    case 'private':
      return conversation.userIds.includes(userId);
    case 'room':
      return (await roomRole(ctx.sql, conversation.id, userId)) !== undefined;
  }
}
