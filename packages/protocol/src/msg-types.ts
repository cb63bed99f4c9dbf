/** `msg_type` values of chat frames, as the original server numbered them (1–7), then Part 2's (8–11). */
export const MsgType = {
  /** From the server: errors (to the sender only), acks, notices. */
  System: 1,
  /** A user's first connection appeared in the room, cluster-wide. */
  InRoom: 2,
  /** A user's last connection left the room. */
  OutRoom: 3,
  Text: 4,
  File: 5,
  FileProgress: 6,
  Image: 7,
  /** Part 2, both ways: someone is typing in a conversation. Relayed, never stored. */
  Typing: 8,
  /** Part 2, both ways: a read cursor moved. */
  Read: 9,
  /** Part 2, client → server: resume several conversations after their last seen ids. */
  Resume: 10,
  /** Part 2, server → client: a room's membership or name changed. */
  RoomEvent: 11,
} as const;

export type MsgTypeValue = (typeof MsgType)[keyof typeof MsgType];
