import { signedFileUrl, type ChatMessage } from '@im/client';
import { im } from '../state/session.ts';

/**
 * Images and downloads of chat files. Part 1 downloads need the Authorization header, which an
 * `<img>` cannot send, so the bytes are fetched with the token and shown through a blob: URL.
 * Part 2 frames carry a signed `url` that works without a header: `signedFileUrl` returns it and
 * then the image loads directly (and the browser caches it) — the fetch below is only the
 * fallback for Part 1 servers.
 */
const objectUrls = new Map<string, Promise<string>>();

export function imageSource(message: ChatMessage): Promise<string> {
  const signed = signedFileUrl(message);
  if (signed) return Promise.resolve(im.assetUrl(signed));
  const name = message.file!.name;
  let url = objectUrls.get(name);
  if (!url) {
    url = im.files.download(name).then((blob) => URL.createObjectURL(blob));
    // A failed load is tried again next time.
    url.catch(() => objectUrls.delete(name));
    objectUrls.set(name, url);
  }
  return url;
}

/** Saves a file message's file under its original name. */
export async function saveFile(message: ChatMessage): Promise<void> {
  const signed = signedFileUrl(message);
  const href = signed ? im.assetUrl(signed) : URL.createObjectURL(await im.files.download(message.file!.name));
  const link = document.createElement('a');
  link.href = href;
  link.download = message.file!.original_name || message.content;
  document.body.append(link);
  link.click();
  link.remove();
  if (!signed) setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** On sign-out: the images of this session go. */
export function releaseMedia(): void {
  for (const url of objectUrls.values()) void url.then(URL.revokeObjectURL, () => {});
  objectUrls.clear();
}
