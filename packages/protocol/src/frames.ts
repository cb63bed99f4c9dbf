import type { MsgTypeValue } from './msg-types.ts';

/** File metadata the server fills into file and image frames. */
export interface FileInfo {
  name: string;
  original_name: string;
  size: number;
  type: string;
  mime_type: string;
  /** Relative download path, e.g. `api/files/download?file=<name>`. */
  path: string;
}

/** A chat message as clients see it, live and in history (docs/protocol.md, Server frames). */
export interface ChatFrame {
  id: number;
  user_id: string;
  username: string;
  avatar: string;
  msg_type: MsgTypeValue;
  content: string;
  /** ISO 8601 with offset. */
  date: string;
  online_count: number;
  client_msg_id?: string;
  file?: FileInfo;
  /** Private frames only. */
  target_id?: string;
  target_name?: string;
  target_avatar?: string;
}

/** A user's first connection appeared (msg_type 2) or last one left (msg_type 3). Not stored. */
export interface PresenceFrame {
  user_id: string;
  username: string;
  avatar: string;
  msg_type: 2 | 3;
  content: string;
  date: string;
  online_count: number;
  target_id?: string;
  target_name?: string;
  target_avatar?: string;
}

/** An error or notice to one client only (msg_type 1). */
export interface SystemFrame {
  msg_type: 1;
  /** An envelope code from the contract's table (0 for plain notices). */
  code: number;
  content: string;
  date: string;
  client_msg_id?: string;
  /** On the welcome notice: users online in the room. */
  online_count?: number;
}

export interface UserSummary {
  userId: string;
  username: string;
  avatar: string;
}

export interface StoredMessage {
  id: bigint | number;
  msgType: number;
  content: string;
  createdAt: Date;
  onlineCount: number;
  clientMsgId: string | null;
}

/** Builds the frame for a stored message; the same shape serves live delivery and history. */
export function chatFrame(message: StoredMessage, sender: UserSummary, target?: UserSummary, file?: FileInfo): ChatFrame {
  const frame: ChatFrame = {
    id: Number(message.id),
    user_id: sender.userId,
    username: sender.username,
    avatar: sender.avatar,
    msg_type: message.msgType as MsgTypeValue,
    content: message.content,
    date: message.createdAt.toISOString(),
    online_count: message.onlineCount,
  };
  if (message.clientMsgId) frame.client_msg_id = message.clientMsgId;
  if (file) frame.file = file;
  if (target) {
    frame.target_id = target.userId;
    frame.target_name = target.username;
    frame.target_avatar = target.avatar;
  }
  return frame;
}

export function systemFrame(code: number, content: string, clientMsgId?: string): SystemFrame {
  const frame: SystemFrame = { msg_type: 1, code, content, date: new Date().toISOString() };
  if (clientMsgId) frame.client_msg_id = clientMsgId;
  return frame;
}
