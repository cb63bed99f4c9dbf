import type { HttpClient } from '../http-client.ts';
import type { ChatFrame, Page } from '../types.ts';

export type HistorySort = 'created_at asc' | 'created_at desc' | 'username asc' | 'username desc';

/**
 * One page of history. Cursors (docs/api.md "History"): `afterId` gives messages after it, oldest
 * first (catching up); `beforeId` gives messages before it, newest first (scrolling back). Without
 * a cursor: `page` and `sort` (default `created_at desc`, newest first).
 */
export interface HistoryInput {
  /** 1–100. @default 10 */
  limit?: number;
  page?: number;
  sort?: HistorySort;
  beforeId?: number;
  afterId?: number;
  /** Group: only this sender's messages. Private: the peer, by name. */
  username?: string;
}

export interface PrivateHistoryInput extends HistoryInput {
  /** The peer (10-hex user id). Without it and `username`: every private message of the caller. */
  targetId?: string;
}

/** Part 1 history: `GET /api/chat_groupList` and `GET /api/chat_privateList`. */
export class HistoryApi {
  constructor(private readonly http: HttpClient) {}

  group(input: HistoryInput = {}): Promise<Page<ChatFrame>> {
    return this.http.request('/api/chat_groupList', { query: historyQuery(input) });
  }

  private(input: PrivateHistoryInput = {}): Promise<Page<ChatFrame>> {
    return this.http.request('/api/chat_privateList', { query: { ...historyQuery(input), target_id: input.targetId } });
  }
}

function historyQuery(input: HistoryInput) {
  return {
    limit: input.limit,
    page: input.page,
    sort: input.sort,
    before_id: input.beforeId,
    after_id: input.afterId,
    username: input.username,
  };
}
