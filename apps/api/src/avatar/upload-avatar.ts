import type { IncomingMessage } from 'node:http';
import { Prisma } from '@im/db';
import { errors } from '@im/protocol';
import { TooLargeError } from '@im/storage';
import type { ApiContext } from '../services.ts';
import { toUserView, type UserView } from '../accounts/user-view.ts';
import { classifyAvatar, SNIFF_BYTES } from '../files/file-types.ts';
import { receiveSingleFile } from '../files/multipart.ts';
import { peekStream } from '../files/peek-stream.ts';
import { avatarKeyOfPublicPath, uploadedAvatarKey } from './avatar-paths.ts';

const MAX_SWAP_ATTEMPTS = 5;

/**
 * `POST /api/users/avatar`: stores the image under a new key, points `users.avatar` at it, then
 * removes the previous file. A new name each time means browsers and caches never show a stale
 * avatar, and a reader never sees a half-replaced one.
 */
export async function uploadAvatar(ctx: ApiContext, userId: string, req: IncomingMessage): Promise<UserView> {
  const maxBytes = ctx.config.upload.max_avatar_bytes;
  const stored = await receiveSingleFile(
    req,
    async (file) => {
      const { head, stream } = await peekStream(file.stream, Math.min(SNIFF_BYTES, maxBytes + 1));
      const type = await classifyAvatar(head);
      const key = uploadedAvatarKey(userId, type.ext);
      try {
        await ctx.storage.writeStream(key, stream, { maxBytes });
      } catch (err) {
        if (err instanceof TooLargeError) throw errors.payloadTooLarge(`头像不能超过 ${Math.round(maxBytes / 1024)} KiB`);
        throw err;
      }
      return key;
    },
    (key) => ctx.storage.remove(key),
  );

  try {
    // Compare-and-set on the old value: of two concurrent uploads each removes only the file it
    // replaced, so neither leaves an orphan nor deletes the avatar in use.
    for (let attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt++) {
      const current = await ctx.db.user.findUnique({ where: { userId }, select: { avatar: true } });
      if (!current) throw errors.notFound('用户不存在');
      try {
        const user = await ctx.db.user.update({
          where: { userId, avatar: current.avatar },
          data: { avatar: `uploads/${stored}` },
        });
        const oldKey = avatarKeyOfPublicPath(current.avatar);
        if (oldKey && oldKey !== stored) {
          await ctx.storage.remove(oldKey).catch((err: unknown) => {
            ctx.logger.warn({ err: { message: (err as Error).message }, key: oldKey }, 'old avatar not removed');
          });
        }
        return toUserView(user);
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') continue;
        throw err;
      }
    }
    throw errors.serviceUnavailable('头像更新冲突，请重试');
  } catch (err) {
    await ctx.storage.remove(stored);
    throw err;
  }
}
