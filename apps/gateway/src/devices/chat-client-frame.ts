import type { RawData } from 'ws';
import { ErrorCode, MsgType, parseConversation, type ParsedConversation } from '@im/protocol';

/** Most conversations one resume frame may name (a user has at most 1,000 rooms by default). */
export const MAX_RESUME_CONVERSATIONS = 2_000;

/** A client frame of `/api/chat`, read far enough to dispatch it, or why it is refused. */
export type ChatClientFrame =
  | { kind: 'resume'; conversations: Array<[ParsedConversation, bigint]> }
  | { kind: 'typing'; conversation: ParsedConversation }
  | { kind: 'read'; conversation: ParsedConversation; lastReadId: bigint }
  /** A message (4, 5, 7): the rest is checked as Part 1 checks it. */
  | { kind: 'send'; conversation: ParsedConversation; frame: Record<string, unknown> }
  | { kind: 'refused'; code: number; message: string; conversation?: string; clientMsgId?: string };

const refuse = (message: string, conversation?: string, code: number = ErrorCode.InvalidParameter): ChatClientFrame => ({
  kind: 'refused',
  code,
  message,
  ...(conversation === undefined ? {} : { conversation }),
});

/** Reads one `/api/chat` client frame (docs/protocol-part2.md); unknown extra fields are ignored. */
export function readChatClientFrame(raw: RawData, isBinary: boolean): ChatClientFrame {
  if (isBinary) return refuse('只接受 JSON 文本帧');
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawText(raw));
  } catch {
    return refuse('消息不是合法的 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse('消息应为 JSON 对象');
  const frame = parsed as Record<string, unknown>;
  if (frame.msg_type === MsgType.Resume) return readResume(frame.conversations);
  const named = typeof frame.conversation === 'string' ? frame.conversation : undefined;
  const conversation = parseConversation(frame.conversation);
  if (!conversation) return refuse(named === undefined ? 'conversation: 缺少会话 id' : 'conversation: 不是合法的会话 id');
  switch (frame.msg_type) {
    case MsgType.Typing:
      return { kind: 'typing', conversation };
    case MsgType.Read: {
      // A number, as the frames schema says (HTTP also takes a decimal string; a frame is JSON either way).
      const id = frame.last_read_id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return refuse('last_read_id 应为消息 id', conversation.id);
      return { kind: 'read', conversation, lastReadId: BigInt(id) };
    }
    case MsgType.Text:
    case MsgType.File:
    case MsgType.Image:
      return { kind: 'send', conversation, frame };
    default:
      return refuse('不支持的 msg_type', conversation.id);
  }
}

function readResume(value: unknown): ChatClientFrame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse('conversations 应为 {会话 id: 最后消息 id} 对象');
  const entries = Object.entries(value);
  if (entries.length > MAX_RESUME_CONVERSATIONS) return refuse(`conversations 最多 ${MAX_RESUME_CONVERSATIONS} 个会话`);
  const conversations: Array<[ParsedConversation, bigint]> = [];
  for (const [id, lastId] of entries) {
    const conversation = parseConversation(id);
    if (!conversation) return refuse(`conversations: ${JSON.stringify(id).slice(0, 40)} 不是合法的会话 id`);
    if (typeof lastId !== 'number' || !Number.isSafeInteger(lastId) || lastId < 0) return refuse(`conversations.${id}: 应为最后消息 id（没有为 0）`, id);
    conversations.push([conversation, BigInt(lastId)]);
  }
  return { kind: 'resume', conversations };
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw as ArrayBuffer).toString('utf8');
}
