import type { ChatMessage } from './types.ts';

/**
 * Part 2: the link an `<img>` can load without a header (signed, for a limited time), when the
 * server sends one; undefined on Part 1 servers, whose downloads need the Authorization header
 * (load those through `files.download` and an object URL).
 */
export function signedFileUrl(message: Pick<ChatMessage, 'file' | 'url'>): string | undefined {
  return message.file?.url ?? message.url;
}
