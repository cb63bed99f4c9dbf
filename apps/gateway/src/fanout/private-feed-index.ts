import { parseConversation } from '@im/protocol';

/**
 * The private conversations with a feed here, by participant: an `/api/chat` socket that opens
 * after a chat's feed was made joins it (see Devices.enter).
 */
export class PrivateFeedIndex {
  private readonly byUser = new Map<string, Set<string>>();

  /** Records a conversation's feed (anything but a private chat is left out). */
  add(conversation: string): void {
    for (const user of participants(conversation)) this.byUser.set(user, (this.byUser.get(user) ?? new Set<string>()).add(conversation));
  }

  remove(conversation: string): void {
    for (const user of participants(conversation)) {
      const set = this.byUser.get(user);
      if (set?.delete(conversation) && set.size === 0) this.byUser.delete(user);
    }
  }

  of(userId: string): string[] {
    return [...(this.byUser.get(userId) ?? [])];
  }
}

function participants(conversation: string): readonly string[] {
  const parsed = parseConversation(conversation);
  return parsed?.kind === 'private' ? parsed.userIds : [];
}
