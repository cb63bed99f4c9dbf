import type { ImClient } from '@im/client';
import type { ChatStore } from '../state/chat-store.ts';
import { createPart1Transport } from './part1-transport.ts';
import { createPart2Transport, Part2Unavailable } from './part2-transport.ts';
import type { ChatTransport } from './transport.ts';

export type { ChatTransport };

/**
 * The one switch between protocol generations: Part 2's one socket per device when the server
 * serves `/api/chat`, else Part 1's sockets (part2-transport.ts finds out at start, index.ts
 * swaps). The screens hold this object; calls go to whichever is in use.
 */
export function createTransport(im: ImClient, store: ChatStore): ChatTransport {
  let current: ChatTransport = createPart2Transport(im, store);
  let stopped = false;

  async function start(): Promise<void> {
    try {
      await current.start();
    } catch (err) {
      if (!(err instanceof Part2Unavailable) || stopped) throw err;
      current.stop();
      current = createPart1Transport(im, store);
      await current.start();
    }
  }

  return {
    start,
    stop() {
      stopped = true;
      current.stop();
    },
    open: (id) => current.open(id),
    openPrivate: (peer) => current.openPrivate(peer),
    loadOlder: (id) => current.loadOlder(id),
    markViewed: (id) => current.markViewed(id),
    sendText: (id, text) => current.sendText(id, text),
    sendFile: (id, file) => current.sendFile(id, file),
    retry: (id, clientMsgId) => current.retry(id, clientMsgId),
    typing: (id) => current.typing(id),
    loadMorePeople: () => current.loadMorePeople(),
    reconnectNow: () => current.reconnectNow(),
    createRoom: (name, memberIds) => current.createRoom(name, memberIds),
    roomDetails: (id) => current.roomDetails(id),
    addMembers: (id, userIds) => current.addMembers(id, userIds),
    removeMember: (id, userId) => current.removeMember(id, userId),
    leaveRoom: (id) => current.leaveRoom(id),
  };
}
