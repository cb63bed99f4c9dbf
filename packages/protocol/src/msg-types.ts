/** `msg_type` values of chat frames, as the original server numbered them. */
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
} as const;

export type MsgTypeValue = (typeof MsgType)[keyof typeof MsgType];
