import { toChatFrame, type ChatMessageWithPeople } from '@im/db';
import type { ChatFrame } from '@im/protocol';

/** A page of history as the contract shows it; `count` is the total for the filter. */
export interface HistoryPage {
  count: number;
  list: ChatFrame[];
}

/**
 * The live frame's shape, from the same builder the gateways use: flat, `file` filled from the
 * stored file, target fields only on private messages (group rows have no target).
 */
export function toFrames(messages: ChatMessageWithPeople[]): ChatFrame[] {
  return messages.map(toChatFrame);
}
