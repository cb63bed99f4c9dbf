/**
 * Conversation keys: what messages are stored under and what gateways fan out on. The group room
 * is one global conversation, as in the original; a private conversation is the unordered pair.
 */
export const GROUP_CONVERSATION = 'group';

/** `p:<smaller id>:<larger id>`, so A→B and B→A are one conversation. */
export function privateConversation(userA: string, userB: string): string {
  return userA < userB ? `p:${userA}:${userB}` : `p:${userB}:${userA}`;
}

export function isPrivateConversation(conversation: string): boolean {
  return conversation.startsWith('p:');
}
