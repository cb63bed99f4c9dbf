import type { ChatFrame, FileInfo, PresenceFrame, SystemFrame } from '@im/protocol';

export type { ChatFrame, FileInfo, PresenceFrame, SystemFrame };

/** The fetch function the SDK calls; `globalThis.fetch` in browsers and Node 20+. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A user as `GET /api/users` and registration answer it. */
export interface PublicUser {
  user_id: string;
  user_name: string;
  /** Relative path served without a token, e.g. `uploads/avatar/<user_id>.png`. */
  avatar: string;
  email: string;
  created_at: string;
  updated_at: string;
}

/** What a successful login gives, and what a TokenStore keeps. */
export interface Session {
  token: string;
  token_type: 'bearer';
  /** ISO 8601 UTC. */
  expires_at: string;
  user: PublicUser;
}

/** `{count, list}`: `count` is the total, not the page size. */
export interface Page<T> {
  count: number;
  list: T[];
}

/** The upload answer and the items of `GET /api/files`. */
export interface UploadedFile {
  user_id: string;
  target_id: string | null;
  /** `api/files/download?file=<file_name>`, relative. */
  path: string;
  /** The server-made name: download with it and name it in a file or image frame. */
  file_name: string;
  original_name: string;
  file_size: number;
  file_type: string;
  created_at: string;
  /** Part 2: a link that works without a header for a limited time (signed). */
  url?: string;
  /** Part 2: the conversation the file belongs to. */
  conversation?: string;
}

// ---- Part 2 (CONTRACT.md "Part 2"): typed ahead of the server, so the app can switch to it. ----

/** `group`, `r:<room_id>` or `p:<user_id>:<user_id>` (the two ids sorted). */
export type ConversationId = string;

export type RoomRole = 'owner' | 'admin' | 'member';

/** A room as the rooms endpoints answer it. */
export interface Room {
  room_id: string;
  conversation: ConversationId;
  name: string;
  owner_id: string;
  member_count: number;
  created_at: string;
  updated_at: string;
  /** The caller's role; absent in the answer to leaving. */
  role?: RoomRole;
}

export interface RoomMember {
  user_id: string;
  user_name: string;
  avatar: string;
  role: RoomRole;
  joined_at: string;
}

/** `GET /api/rooms/<room_id>`: the room and its members. */
export interface RoomDetails extends Room {
  members: RoomMember[];
}

/** `POST /api/rooms/<room_id>/members`: who was added, who was a member already. */
export interface AddMembersResult {
  room: Room;
  added: string[];
  already_members: string[];
}

/** One entry of the inbox, `GET /api/conversations`. */
export interface ConversationSummary {
  conversation: ConversationId;
  kind: 'group' | 'room' | 'private';
  title: string;
  avatar: string;
  last_message: ChatMessage | null;
  unread_count: number;
  /** Present and true when `unread_count` hit the server's cap. */
  unread_capped?: boolean;
  last_read_id: number;
  room?: { room_id: string; name: string; member_count: number; role: RoomRole };
  peer?: { user_id: string; user_name: string; avatar: string; online: boolean };
}

/** `GET /api/conversations/<conversation>/read`: how far the caller and the others have read. */
export interface ReadPositions {
  conversation: ConversationId;
  /** The caller's read position, as in the inbox. */
  last_read_id: number;
  /** The furthest any other member has read; null in the group and in rooms above the presence notice limit. */
  others_read_id: number | null;
}

export interface ConversationPage {
  list: ConversationSummary[];
  /** Cursor for the next (older) page; absent or null at the end. */
  next?: string | null;
}

/** A chat message as the SDK hands it out: the server frame plus the conversation it belongs to. */
export interface ChatMessage extends Omit<ChatFrame, 'file'> {
  conversation: ConversationId;
  file?: MessageFile;
  /** Part 2 may put the signed link on the frame itself; read it with `signedFileUrl`. */
  url?: string;
}

/** File metadata in file and image frames; Part 2 adds `url`, a signed link for `<img>`. */
export interface MessageFile extends FileInfo {
  url?: string;
}
