import type { IncomingMessage } from 'node:http';
import { errors, GROUP_CONVERSATION, privateConversation } from '@im/protocol';
import type { Db, File } from '@im/db';
import { TooLargeError } from '@im/storage';
import type { ApiContext } from '../services.ts';
import { cleanOriginalName, newFileName, newStorageKey } from './file-names.ts';
import { SNIFF_BYTES } from './file-types.ts';
import { receiveSingleFile } from './multipart.ts';
import { peekStream } from './peek-stream.ts';

export interface UploadRequest {
  userId: string;
  /** The private peer; undefined for a group or room file. */
  targetId: string | undefined;
  /**
   * The conversation it is for, when the caller named one (Part 2, already checked visible and
   * matching `targetId`); otherwise the group or the private chat with `targetId`.
   */
  conversation?: string;
  req: IncomingMessage;
}

/**
 * `POST /api/files/upload`: streams the one `file` part into storage under a new server-made key,
 * then records it. Limits are enforced while streaming, so an oversize or refused upload never
 * leaves a file or a row, and neither does one whose client hangs up.
 */
export async function storeUpload(ctx: ApiContext, { userId, targetId, conversation, req }: UploadRequest): Promise<File> {
  const { max_file_bytes: maxFileBytes, quota_bytes_per_user: quota } = ctx.config.upload;
  if (targetId !== undefined) {
    if (targetId === userId) throw errors.invalidParameter('不能给自己发送文件', { errors: [{ field: 'target_id', message: '不能是自己' }] });
    const target = await ctx.db.user.findUnique({ where: { userId: targetId }, select: { userId: true } });
    if (!target) throw errors.notFound('目标用户不存在');
  }
  const room = quota - (await usedBytes(ctx.db, userId));
  if (room <= 0) throw quotaExceeded(quota);
  const maxBytes = Math.min(maxFileBytes, room);

  const stored = await receiveSingleFile(
    req,
    async (file) => {
      const originalName = cleanOriginalName(file.name);
      const { head, stream } = await peekStream(file.stream, SNIFF_BYTES);
      const type = await ctx.fileTypes.classify(originalName, head);
      const storageKey = newStorageKey();
      try {
        const { size } = await ctx.storage.writeStream(storageKey, stream, { maxBytes });
        return { storageKey, size, originalName, ...type };
      } catch (err) {
        if (err instanceof TooLargeError) throw maxBytes < maxFileBytes ? quotaExceeded(quota) : fileTooLarge(maxFileBytes);
        throw err;
      }
    },
    (file) => ctx.storage.remove(file.storageKey),
  );

  try {
    // The quota is checked again under a lock on the user's row, so parallel uploads (on any
    // replica) cannot together exceed it.
    const row = await ctx.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT user_id FROM users WHERE user_id = ${userId} FOR UPDATE`;
      if ((await usedBytes(tx, userId)) + stored.size > quota) throw quotaExceeded(quota);
      return tx.file.create({
        data: {
          fileName: newFileName(stored.fileType),
          originalName: stored.originalName,
          ownerId: userId,
          targetId: targetId ?? null,
          size: BigInt(stored.size),
          mimeType: stored.mimeType,
          fileType: stored.fileType,
          storageKey: stored.storageKey,
          conversation: conversation ?? (targetId === undefined ? GROUP_CONVERSATION : privateConversation(userId, targetId)),
        },
      });
    });
    return row;
  } catch (err) {
    await ctx.storage.remove(stored.storageKey);
    throw err;
  }
}

type FileCounter = Pick<Db, 'file'>;

async function usedBytes(db: FileCounter, userId: string): Promise<number> {
  const { _sum } = await db.file.aggregate({ where: { ownerId: userId }, _sum: { size: true } });
  return Number(_sum.size ?? 0n);
}

function fileTooLarge(maxBytes: number) {
  return errors.payloadTooLarge(`文件不能超过 ${formatBytes(maxBytes)}`);
}

function quotaExceeded(quota: number) {
  return errors.payloadTooLarge(`已超出个人文件空间 ${formatBytes(quota)}`);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
