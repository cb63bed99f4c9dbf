import { fileConversation, type ChatReader } from '@im/db';
import { errors, MsgType } from '@im/protocol';
import type { ClientFrame } from './client-frame.ts';

export interface ResolvedFile {
  id: bigint;
  fileName: string;
  originalName: string;
  size: bigint;
  fileType: string;
  mimeType: string;
}

/**
 * Finds the uploaded file a file (5), progress (6) or image (7) frame names, by its server-made
 * `file_name` or its id — never by a path. It must have been uploaded for this very conversation
 * (`fileConversation`: a group file for the group, a file between the two users for their private
 * chat, a room's file for that room — never a room's file in another conversation). Files and
 * images can only be sent by their uploader; progress notices by either side. Anything else is
 * "not found", so the answer does not reveal other people's files.
 */
export async function resolveFile(
  reader: Pick<ChatReader, 'file'>,
  sender: { userId: string; conversation: string },
  frame: Pick<ClientFrame, 'file' | 'msg_type'>,
): Promise<ResolvedFile> {
  const reference = frame.file;
  const byName = typeof reference?.name === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(reference.name);
  const byId = reference?.id !== undefined && /^\d{1,19}$/.test(String(reference.id));
  if (!byName && !byId) throw errors.invalidParameter('file.name 应为上传接口返回的 file_name');

  const file = await reader.file(byName ? { name: reference!.name! } : { id: BigInt(String(reference!.id)) });
  const inConversation = file && fileConversation(file) === sender.conversation;
  const mayReference = file && (frame.msg_type === MsgType.FileProgress || file.ownerId === sender.userId);
  if (!file || !inConversation || !mayReference) throw errors.notFound('文件不存在或不属于这个会话');
  if (frame.msg_type === MsgType.Image && !file.mimeType.startsWith('image/')) {
    throw errors.unsupportedType('图片消息只能引用图片文件');
  }
  const { ownerId: _owner, targetId: _target, conversation: _conversation, ...resolved } = file;
  return resolved;
}
