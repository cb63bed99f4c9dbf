import type { RawData } from 'ws';
import { z } from 'zod';
import { ErrorCode, MsgType } from '@im/protocol';

/** Message types a client may send; 1–3 are the server's own. */
const CLIENT_TYPES = [MsgType.Text, MsgType.File, MsgType.FileProgress, MsgType.Image] as const;

const CLIENT_MSG_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A client frame as docs/protocol.md describes it. Unknown extra fields are ignored. */
const clientFrameSchema = z.object({
  content: z.string({ error: 'content 必须是字符串' }),
  msg_type: z
    .number({ error: 'msg_type 必须是数字' })
    .int()
    .refine((type) => (CLIENT_TYPES as readonly number[]).includes(type), '不支持的 msg_type'),
  client_msg_id: z
    .string()
    .regex(CLIENT_MSG_ID, 'client_msg_id 为 1–64 个字母、数字或 _.:-')
    .optional(),
  file: z
    .object({
      name: z.string().max(128).optional(),
      id: z.union([z.string(), z.number()]).optional(),
    })
    .optional(),
});

export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** A frame read from the socket: validated and trimmed, or why it is refused. */
export type ReadFrame =
  | { ok: true; frame: ClientFrame; content: string; clientMsgId: string | undefined }
  | { ok: false; reason: string; code: number; message: string; clientMsgId: string | undefined };

/**
 * Parses and validates one client frame. The client's `client_msg_id`, when it sent a usable
 * one, comes back even for a refused frame, so the error can name the message.
 */
export function readClientFrame(raw: RawData, isBinary: boolean, maxContentChars: number): ReadFrame {
  const refuse = (reason: string, code: number, message: string, clientMsgId?: string): ReadFrame => ({ ok: false, reason, code, message, clientMsgId });
  if (isBinary) return refuse('binary', ErrorCode.InvalidParameter, '只接受 JSON 文本帧');
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawText(raw));
  } catch {
    return refuse('json', ErrorCode.InvalidParameter, '消息不是合法的 JSON');
  }
  return checkClientFrame(parsed, maxContentChars);
}

/** The checks of `readClientFrame` on a frame already parsed (an `/api/chat` message, which names its conversation too). */
export function checkClientFrame(parsed: unknown, maxContentChars: number): ReadFrame {
  const refuse = (reason: string, code: number, message: string, clientMsgId?: string): ReadFrame => ({ ok: false, reason, code, message, clientMsgId });
  const result = clientFrameSchema.safeParse(parsed);
  const clientMsgId = clientMsgIdOf(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return refuse('invalid', ErrorCode.InvalidParameter, `${issue.path.join('.') || '消息'}: ${issue.message}`, clientMsgId);
  }
  const frame = result.data;
  const content = frame.content.trim();
  if (frame.msg_type === MsgType.Text && content.length === 0) {
    return refuse('empty', ErrorCode.InvalidParameter, 'content 不能为空', clientMsgId);
  }
  if ([...content].length > maxContentChars) {
    return refuse('long', ErrorCode.PayloadRejected, `content 最多 ${maxContentChars} 个字符`, clientMsgId);
  }
  return { ok: true, frame, content, clientMsgId };
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw as ArrayBuffer).toString('utf8');
}

/** The client's id for the message, if it sent a usable one, so errors can name the message. */
function clientMsgIdOf(parsed: unknown): string | undefined {
  const value = (parsed as { client_msg_id?: unknown } | null)?.client_msg_id;
  return typeof value === 'string' && CLIENT_MSG_ID.test(value) ? value : undefined;
}
