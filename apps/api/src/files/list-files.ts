import type { ApiContext } from '../services.ts';
import { toFileView, type FileView } from './file-view.ts';
import { fileOrderBy, type ListFilesQuery } from './schemas.ts';

/** The caller's files: the ones they uploaded (private and group) and the ones sent to them. */
export async function listFiles(ctx: ApiContext, userId: string, query: ListFilesQuery): Promise<{ count: number; list: FileView[] }> {
  const where = { OR: [{ ownerId: userId }, { targetId: userId }] };
  const [count, rows] = await Promise.all([
    ctx.db.file.count({ where }),
    ctx.db.file.findMany({
      where,
      orderBy: fileOrderBy(query.sort),
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    }),
  ]);
  return { count, list: rows.map(toFileView) };
}
