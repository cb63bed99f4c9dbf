import type { HttpClient } from '../http-client.ts';
import type { Room, RoomDetails, RoomRole } from '../types.ts';

/** Part 2 rooms with members (CONTRACT.md "Rooms"). Not a member: 404 / 1005; no right: 403 / 1004. */
export class RoomsApi {
  constructor(private readonly http: HttpClient) {}

  /** The caller becomes the owner. `name` 1–64 characters; unknown member ids → 1002 naming them. */
  create(input: { name: string; memberIds?: string[] }): Promise<Room> {
    return this.http.request('/api/rooms', { body: { name: input.name, member_ids: input.memberIds } });
  }

  /** The caller's rooms (the contract does not fix the shape: a list, or `{list}` as elsewhere). */
  async list(): Promise<Room[]> {
    const data = await this.http.request<Room[] | { list: Room[] }>('/api/rooms');
    return Array.isArray(data) ? data : data.list;
  }

  get(roomId: string): Promise<RoomDetails> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}`);
  }

  /** Owner or admin. */
  addMembers(roomId: string, userIds: string[]): Promise<RoomDetails> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}/members`, { body: { user_ids: userIds } });
  }

  /** Owner or admin removes someone; anyone removes themselves (leaves). */
  removeMember(roomId: string, userId: string): Promise<unknown> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`, { method: 'DELETE' });
  }

  leave(roomId: string, selfId: string): Promise<unknown> {
    return this.removeMember(roomId, selfId);
  }

  /** Owner only. */
  setRole(roomId: string, userId: string, role: Exclude<RoomRole, 'owner'>): Promise<unknown> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`, {
      method: 'PATCH',
      body: { role },
    });
  }

  /** Owner or admin. */
  rename(roomId: string, name: string): Promise<Room> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}`, { method: 'PATCH', body: { name } });
  }
}
