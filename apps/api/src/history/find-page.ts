import type { HistoryReader, MessageFilter, MessageWindow } from '@im/db';
import type { HistoryQuery, HistoryWindow } from './schemas.ts';
import { toFrames, type HistoryPage } from './to-frames.ts';

/**
 * One page of the messages matching `filter`, by OFFSET page or by id cursor, and their total.
 * `created_at` sorts are served in id order: the order the conversation stored its messages, and
 * the order of the (conversation, id) index, so no sort is needed.
 */
export async function historyPage(history: HistoryReader, filter: MessageFilter, { limit, window }: HistoryQuery): Promise<HistoryPage> {
  const { count, messages } = await history.findHistory(filter, toMessageWindow(window, limit), limit);
  return { count, list: toFrames(messages) };
}

function toMessageWindow(window: HistoryWindow, limit: number): MessageWindow {
  switch (window.kind) {
    case 'after':
      return { kind: 'after', afterId: window.afterId };
    case 'before':
      return { kind: 'before', beforeId: window.beforeId };
    case 'page': {
      const [field, direction] = window.sort.split(' ') as ['created_at' | 'username', 'asc' | 'desc'];
      return {
        kind: 'offset',
        offset: (window.page - 1) * limit,
        orderBy: field === 'username' ? 'username' : 'id',
        direction,
      };
    }
  }
}
