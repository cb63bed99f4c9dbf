import type { RoomRole } from '@im/protocol';

// Who may do what in a room (CONTRACT.md, Rooms), in one place. Owners may do everything;
// admins manage members and the name but cannot touch other admins or the owner; members may
// leave. Ownership is not assigned: it passes on when the owner leaves (see remove-member.ts).

export function mayAddMembers(actor: RoomRole): boolean {
  return actor === 'owner' || actor === 'admin';
}

export function mayRename(actor: RoomRole): boolean {
  return actor === 'owner' || actor === 'admin';
}

export function mayChangeRoles(actor: RoomRole): boolean {
  return actor === 'owner';
}

/** Removing someone else (leaving is always allowed). */
export function mayRemove(actor: RoomRole, target: RoomRole): boolean {
  if (actor === 'owner') return target !== 'owner';
  if (actor === 'admin') return target === 'member';
  return false;
}
