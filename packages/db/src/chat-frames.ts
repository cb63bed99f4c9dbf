import { chatFrame, type ChatFrame, type FileInfo } from '@im/protocol';
import type { ChatMessageWithPeople } from './chat-messages.ts';

/** Where clients download a stored file; the name is the server-made `file_name`. */
export function downloadPath(fileName: string): string {
  return `api/files/download?file=${encodeURIComponent(fileName)}`;
}

export interface FileRow {
  fileName: string;
  originalName: string;
  size: bigint | number;
  fileType: string;
  mimeType: string;
}

/** The `file` object of file and image frames. */
export function fileInfo(file: FileRow): FileInfo {
  return {
    name: file.fileName,
    original_name: file.originalName,
    size: Number(file.size),
    type: file.fileType,
    mime_type: file.mimeType,
    path: downloadPath(file.fileName),
  };
}

/** The live/history frame of a stored message (private frames carry the target's fields). */
export function toChatFrame(row: ChatMessageWithPeople): ChatFrame {
  return chatFrame(row, row.sender, row.target ?? undefined, row.file ? fileInfo(row.file) : undefined);
}
