import type { HttpClient } from '../http-client.ts';
import type { AddMembersResult, Page, Room, RoomDetails, RoomMember, RoomRole } from '../types.ts';

/** Part 2 rooms with members (CONTRACT.md "Rooms"). Not a member: 404 / 1005; no right: 403 / 1004. */
export class RoomsApi {
  constructor(private readonly http: HttpClient) {}

  /** The caller becomes the owner. `name` 1–64 characters; unknown member ids → 1002 naming them. */
  create(input: { name: string; memberIds?: string[] }): Promise<Room> {
    return this.http.request('/api/rooms', { body: { name: input.name, member_ids: input.memberIds } });
  }

  /** The caller's rooms, by name. */
  list(): Promise<Page<Room>> {
    return this.http.request('/api/rooms');
  }

  get(roomId: string): Promise<RoomDetails> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}`);
  }

  /** Owner or admin. */
  addMembers(roomId: string, userIds: string[]): Promise<AddMembersResult> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}/members`, { body: { user_ids: userIds } });
  }

  /** Owner or admin removes someone; anyone removes themselves (leaves). */
  removeMember(roomId: string, userId: string): Promise<Room> {
    return this.http.request(`/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`, { method: 'DELETE' });
  }

  leave(roomId: string, selfId: string): Promise<Room> {
    return this.removeMember(roomId, selfId);
  }

  /** Owner only. */
  setRole(roomId: string, userId: string, role: Exclude<RoomRole, 'owner'>): Promise<RoomMember> {
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
