import { downloadPath, type File } from '@im/db';

/** A stored file as clients see it: the upload answer and the items of `GET /api/files`. */
export interface FileView {
  user_id: string;
  /** The private peer, or null for a group file. */
  target_id: string | null;
  /** `api/files/download?file=<file_name>`, relative like `avatar`. */
  path: string;
  /** Unique server-made name: the handle to download and to reference in chat. */
  file_name: string;
  original_name: string;
  file_size: number;
  file_type: string;
  created_at: string;
}

export function toFileView(file: File): FileView {
  return {
    user_id: file.ownerId,
    target_id: file.targetId,
    path: downloadPath(file.fileName),
    file_name: file.fileName,
    original_name: file.originalName,
    file_size: Number(file.size),
    file_type: file.fileType,
    created_at: file.createdAt.toISOString(),
  };
}
