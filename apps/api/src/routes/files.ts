import Router from '@koa/router';
import { errors, ok } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { parseInput } from '../validation.ts';
import { downloadQuery, listFilesQuery, uploadQuery } from '../files/schemas.ts';
import { uploadFile } from '../files/upload-file.ts';
import { listFiles } from '../files/list-files.ts';
import { FILE_NAME_PATTERN } from '../files/file-names.ts';
import { sendStoredFile } from '../files/send-file.ts';

/** Uploads, downloads and the caller's file list (docs/protocol.md, Files). */
export function filesRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/files' });
  const requireAuth = authenticate(ctx.tokens);

  router.post('/upload', requireAuth, async (http) => {
    const { target_id: targetId } = parseInput(uploadQuery, http.query);
    const userId = http.state.auth.userId;
    const file = await uploadFile(ctx, { userId, targetId, req: http.req });
    ctx.logger.info({ user_id: userId, file_name: file.file_name, file_size: file.file_size }, 'file uploaded');
    http.body = ok(file, '上传成功');
  });

  router.get('/download', requireAuth, async (http) => {
    const { file: fileName } = parseInput(downloadQuery, http.query);
    const userId = http.state.auth.userId;
    // Unknown, malformed and forbidden names get the same answer: no hint that a file exists.
    const row = FILE_NAME_PATTERN.test(fileName) ? await ctx.db.file.findUnique({ where: { fileName } }) : null;
    const allowed = row && (row.targetId === null || row.ownerId === userId || row.targetId === userId);
    if (!row || !allowed) throw errors.notFound('文件不存在');
    const size = await ctx.storage.size(row.storageKey);
    if (size === undefined) {
      ctx.logger.warn({ file_name: row.fileName }, 'file row without stored bytes');
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
  });

  router.get('/', requireAuth, async (http) => {
    const query = parseInput(listFilesQuery, http.query);
    http.body = ok(await listFiles(ctx, http.state.auth.userId, query));
  });

  return router;
}
