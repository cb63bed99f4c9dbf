import type { HttpClient } from '../http-client.ts';
import type { ConversationId, Page, UploadedFile } from '../types.ts';
import type { UploadOptions } from '../upload.ts';

export interface UploadFileInput extends UploadOptions {
  /** Part 1: a private file for this user (10-hex id). Neither this nor `conversation`: a group file. */
  targetId?: string;
  /** Part 2: the file belongs to this conversation (`group`, `r:…`, `p:…`). */
  conversation?: ConversationId;
  /** The name the server keeps as `original_name`. @default the File's name, else 'file' */
  fileName?: string;
}

export type FileSort = 'created_at asc' | 'created_at desc' | 'file_size asc' | 'file_size desc';

/** Files: CONTRACT.md "Files" (and Part 2's `?conversation=`). */
export class FilesApi {
  constructor(private readonly http: HttpClient) {}

  /**
   * Uploads one file; name its `file_name` in a file (5) or image (7) frame to send it. Progress
   * is reported as the body leaves (XMLHttpRequest in browsers).
   */
  upload(file: Blob, input: UploadFileInput = {}): Promise<UploadedFile> {
    const name = input.fileName ?? (file as Blob & { name?: string }).name ?? 'file';
    return this.http.upload(
      '/api/files/upload',
      { target_id: input.targetId, conversation: input.conversation },
      file,
      name,
      { onProgress: input.onProgress, signal: input.signal },
    );
  }

  /**
   * The file's bytes (the download needs the token, so an `<img>` cannot load it by itself: make
   * an object URL from this Blob, or use Part 2's signed `url` once the server sends one).
   */
  download(fileName: string, signal?: AbortSignal): Promise<Blob> {
    return this.http.download('/api/files/download', { file: fileName }, signal);
  }

  list(input: { limit?: number; page?: number; sort?: FileSort } = {}): Promise<Page<UploadedFile>> {
    return this.http.request('/api/files', { query: { limit: input.limit, page: input.page, sort: input.sort } });
  }
}
