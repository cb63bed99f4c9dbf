import type { ImClient } from '@im/client';
import type { ChatStore } from '../state/chat-store.ts';
import { createPart1Transport } from './part1-transport.ts';
import type { ChatTransport } from './transport.ts';

export type { ChatTransport };

/** The one switch between protocol generations: Part 2's transport goes here when the server has it. */
export function createTransport(im: ImClient, store: ChatStore): ChatTransport {
  return createPart1Transport(im, store);
}
