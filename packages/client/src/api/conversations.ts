import type { HttpClient } from '../http-client.ts';
import type { ChatMessage, ConversationId, ConversationPage, Page, ReadPositions } from '../types.ts';

/** Part 2 inbox (CONTRACT.md "The inbox"); conversation ids travel URL-encoded. */
export class ConversationsApi {
  constructor(private readonly http: HttpClient) {}

  /** Newest activity first; pass the previous page's `next` as `before` for older ones. */
  list(input: { limit?: number; before?: string } = {}): Promise<ConversationPage> {
    return this.http.request('/api/conversations', { query: { limit: input.limit, before: input.before } });
  }

  /** Frames in id order, for any conversation the caller may see. */
  messages(conversation: ConversationId, input: { beforeId?: number; afterId?: number; limit?: number } = {}): Promise<Page<ChatMessage>> {
    return this.http.request(`/api/conversations/${encodeURIComponent(conversation)}/messages`, {
      query: { before_id: input.beforeId, after_id: input.afterId, limit: input.limit },
    });
  }

  /**
   * How far the caller and the others have read: for read marks after a reload or a reconnect,
   * when the read receipts (msg_type 9) sent meanwhile were missed. `others_read_id` is null in
   * the group and in rooms above the presence notice limit (no receipts go to others there).
   */
  readPositions(conversation: ConversationId): Promise<ReadPositions> {
    return this.http.request(`/api/conversations/${encodeURIComponent(conversation)}/read`);
  }

  /** Moves the caller's read cursor forward (never back); an id not in the conversation → 1002. */
  markRead(conversation: ConversationId, lastReadId: number): Promise<{ conversation: ConversationId; last_read_id: number; moved: boolean }> {
    return this.http.request(`/api/conversations/${encodeURIComponent(conversation)}/read`, { body: { last_read_id: lastReadId } });
  }
}
