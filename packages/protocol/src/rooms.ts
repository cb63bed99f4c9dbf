/** Roles in a room, strongest first: the owner (one per room), admins, members. */
export const ROOM_ROLES = ['owner', 'admin', 'member'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];

/** The roles `PATCH /api/rooms/<room_id>/members/<user_id>` may set; ownership only passes on. */
export const ASSIGNABLE_ROOM_ROLES = ['admin', 'member'] as const;
export type AssignableRoomRole = (typeof ASSIGNABLE_ROOM_ROLES)[number];

/** What room events (msg_type 11) report. */
export const ROOM_EVENTS = ['created', 'member_added', 'member_removed', 'role_changed', 'renamed'] as const;
export type RoomEvent = (typeof ROOM_EVENTS)[number];

/** The room as room events and the inbox show it. */
export interface RoomSummary {
  room_id: string;
  name: string;
  owner_id: string;
  member_count: number;
}
