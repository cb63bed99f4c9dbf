import { chatFrame, type ChatFrame, type FileInfo } from '@im/protocol';
import type { ChatMessageWithPeople } from './chat-messages.ts';

/** Where clients download a stored file; the name is the server-made `file_name`. */
export function downloadPath(fileName: string): string {
  return `api/files/download?file=${encodeURIComponent(fileName)}`;
}

/** The live/history frame of a stored message (private frames carry the target's fields). */
export function toChatFrame(row: ChatMessageWithPeople): ChatFrame {
  const file: FileInfo | undefined = row.file
    ? {
        name: row.file.fileName,
        original_name: row.file.originalName,
        size: Number(row.file.size),
        type: row.file.fileType,
        mime_type: row.file.mimeType,
        path: downloadPath(row.file.fileName),
      }
    : undefined;
  return chatFrame(row, row.sender, row.target ?? undefined, file);
}
