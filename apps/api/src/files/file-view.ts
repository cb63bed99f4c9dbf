import { downloadPath, type File } from '@im/db';
import { isRoomConversation } from '@im/protocol';

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
  /** Only on files uploaded to a room (which have no `target_id` and are not group files either). */
  conversation?: string;
}

/** Part 2's upload answer: every file names its conversation and carries a signed `url`. */
export interface ConversationFileView extends FileView {
  conversation: string;
  url: string;
}

/** The Part 1 view; a room file (new with Part 2) also says which room. */
export function toFileView(file: File): FileView {
  const view: FileView = {
    user_id: file.ownerId,
    target_id: file.targetId,
    path: downloadPath(file.fileName),
    file_name: file.fileName,
    original_name: file.originalName,
    file_size: Number(file.size),
    file_type: file.fileType,
    created_at: file.createdAt.toISOString(),
  };
  if (file.conversation !== null && isRoomConversation(file.conversation)) view.conversation = file.conversation;
  return view;
}
