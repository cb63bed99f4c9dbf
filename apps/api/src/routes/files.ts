import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { fileConversation, type File } from '@im/db';
import { errors, ok, privatePeer } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { parseInput } from '../validation.ts';
import { downloadQuery, listFilesQuery, uploadQuery } from '../files/schemas.ts';
import { storeUpload } from '../files/upload-file.ts';
import { listFiles } from '../files/list-files.ts';
import { FILE_NAME_PATTERN } from '../files/file-names.ts';
import { sendStoredFile } from '../files/send-file.ts';
import { toFileView, type ConversationFileView } from '../files/file-view.ts';
import { mayDownload } from '../files/file-access.ts';
import { conversationParam } from '../conversations/schemas.ts';
import { requireVisible } from '../conversations/access.ts';

/** Uploads, downloads and the caller's file list (docs/protocol.md, Files; Part 2 in docs/protocol-part2.md). */
export function filesRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/files' });
  const requireAuth = authenticate(ctx.tokens);

  router.post('/upload', requireAuth, async (http) => {
    const query = parseInput(uploadQuery, http.query);
    const userId = http.state.auth.userId;
    if (query.conversation === undefined) {
      // Part 1, answered exactly as before.
      const file = toFileView(await storeUpload(ctx, { userId, targetId: query.target_id, req: http.req }));
      ctx.logger.info({ user_id: userId, file_name: file.file_name, file_size: file.file_size }, 'file uploaded');
      http.body = ok(file, '上传成功');
      return;
    }
    const conversation = conversationParam(query.conversation);
    await requireVisible(ctx, userId, conversation);
    const row = await storeUpload(ctx, { userId, targetId: privatePeer(conversation, userId), conversation: conversation.id, req: http.req });
    const file: ConversationFileView = { ...toFileView(row), conversation: conversation.id, url: ctx.fileLinks.url(row.fileName) };
    ctx.logger.info({ user_id: userId, file_name: file.file_name, file_size: file.file_size, conversation: conversation.id }, 'file uploaded');
    http.body = ok(file, '上传成功');
  });

  /** A signed link (`expires` + `sig`) downloads without a token; everything else goes on to the token check. */
  const signedLink: Middleware<AuthState> = async (http, next) => {
    if (http.query.expires === undefined && http.query.sig === undefined) return next();
    const query = parseInput(downloadQuery, http.query);
    const verdict = ctx.fileLinks.check(query.file, query.expires ?? '', query.sig ?? '');
    // Only a link this server signed may learn that it expired; anything else is "no such file".
    if (verdict === 'invalid') throw errors.notFound('文件不存在');
    if (verdict === 'expired') throw errors.forbidden('下载链接已过期，请重新获取');
    const row = await ctx.db.file.findUnique({ where: { fileName: query.file } });
    if (!row) throw errors.notFound('文件不存在');
    await sendFile(http, row);
    // The link is the same URL until it expires, so the browser may keep the bytes that long.
    if (http.status === 200 || http.status === 206) {
      http.set('Cache-Control', `private, max-age=${Math.max(0, Number(query.expires) - Math.floor(Date.now() / 1000))}`);
    }
  };

  router.get('/download', signedLink, requireAuth, async (http) => {
    const { file: fileName } = parseInput(downloadQuery, http.query);
    const userId = http.state.auth.userId;
    // Unknown, malformed and forbidden names get the same answer: no hint that a file exists.
    const row = FILE_NAME_PATTERN.test(fileName) ? await ctx.db.file.findUnique({ where: { fileName } }) : null;
    if (!row || !(await mayDownload(ctx, userId, row))) throw errors.notFound('文件不存在');
    await sendFile(http, row);
  });

  async function sendFile(http: Context, row: File): Promise<void> {
    const size = await ctx.storage.size(row.storageKey);
    if (size === undefined) {
      ctx.logger.warn({ file_name: row.fileName, conversation: fileConversation(row) }, 'file row without stored bytes');
      throw errors.notFound('文件不存在');
    }
    sendStoredFile(http, ctx.storage, {
      storageKey: row.storageKey,
      size,
      mimeType: row.mimeType,
      downloadName: row.originalName,
      etag: `"${row.fileName}"`,
      lastModified: row.createdAt,
    });
  }

  router.get('/', requireAuth, async (http) => {
    const query = parseInput(listFilesQuery, http.query);
    http.body = ok(await listFiles(ctx, http.state.auth.userId, query));
  });

  return router;
}
