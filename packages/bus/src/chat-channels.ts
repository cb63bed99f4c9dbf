/**
 * The bus channels of chat traffic, in the one place both apps read them from. The braces are a
 * Redis hash tag: with sharded pub/sub each channel lives on one shard.
 *
 * A conversation's ordered feed is not tied to the channel its messages arrive on: the wire
 * header (chat-wire.ts) names the conversation, so a channel may carry several conversations.
 */

/** Everything of one room conversation (Part 1: `group` and the private pairs): one publish per message. */
export function roomChannel(conversation: string): string {
  return `room:{${conversation}}`;
}

/**
 * Everything for one user whichever conversation it is about (Part 2): today room events about
 * them (added, removed, their role), so every gateway holding a socket of theirs learns at once.
 */
export function userChannel(userId: string): string {
  return `user:{${userId}}`;
}
