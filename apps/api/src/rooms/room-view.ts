import { roomConversation, type RoomRole, type RoomSummary } from '@im/protocol';
import type { RoomMemberRow, RoomRow } from '@im/db';

/** A room as HTTP answers show it; `role` is the caller's, present while they are a member. */
export interface RoomView {
  room_id: string;
  conversation: string;
  name: string;
  owner_id: string;
  member_count: number;
  created_at: string;
  updated_at: string;
  role?: RoomRole;
}

export interface MemberView {
  user_id: string;
  user_name: string;
  avatar: string;
  role: RoomRole;
  joined_at: string;
}

export function toRoomView(room: RoomRow, role?: RoomRole): RoomView {
  const view: RoomView = {
    room_id: room.roomId,
    conversation: roomConversation(room.roomId),
    name: room.name,
    owner_id: room.ownerId,
    member_count: room.memberCount,
    created_at: room.createdAt.toISOString(),
    updated_at: room.updatedAt.toISOString(),
  };
  if (role) view.role = role;
  return view;
}

export function toMemberView(member: RoomMemberRow): MemberView {
  return {
    user_id: member.userId,
    user_name: member.username,
    avatar: member.avatar,
    role: member.role,
    joined_at: member.joinedAt.toISOString(),
  };
}

/** The room in room events (msg_type 11). */
export function toRoomSummary(room: RoomRow): RoomSummary {
  return { room_id: room.roomId, name: room.name, owner_id: room.ownerId, member_count: room.memberCount };
}
