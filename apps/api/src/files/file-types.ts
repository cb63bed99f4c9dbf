import { fileTypeFromBuffer, supportedExtensions } from 'file-type';
import { errors } from '@im/protocol';

/** Bytes read before deciding a type: enough for file-type, including OOXML's first zip entries. */
export const SNIFF_BYTES = 64 * 1024;
/** Text is "no magic bytes and no NUL" within this prefix. */
const TEXT_CHECK_BYTES = 4096;

/** Types without magic bytes, accepted only when the bytes look like text. */
const TEXT_TYPES: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  log: 'text/plain',
};

/** Extensions that file-type reports under another name (`.jpeg` sniffs as `jpg`). */
const SNIFFED_AS: Record<string, readonly string[]> = {
  jpeg: ['jpg'],
  jpe: ['jpg'],
  tiff: ['tif'],
  mp4: ['mp4', 'm4v'],
};

/** What an accepted upload is. */
export interface AcceptedType {
  /** Short label clients show and the extension of the server-made file name (`png`, `txt`). */
  fileType: string;
  mimeType: string;
}

export interface TypePolicy {
  /**
   * Decides from the name's extension and the leading bytes (at least {@link SNIFF_BYTES}, or the
   * whole file if shorter). Throws 415 / 1008 when the type is not allowed or the extension lies.
   */
  classify(originalName: string, head: Buffer): Promise<AcceptedType>;
}

/**
 * The upload allow-list (`upload.allowed_types`). Binary types must sniff as their extension;
 * text types, and names without an extension, must have no magic bytes and no NUL in the first
 * 4 KiB. A name without an extension whose bytes sniff as an allowed binary type takes that type.
 */
export function createTypePolicy(allowedTypes: readonly string[]): TypePolicy {
  const allowed = new Set(allowedTypes.map((type) => type.toLowerCase()));
  for (const type of allowed) {
    if (!TEXT_TYPES[type] && !sniffedNames(type).some((name) => supportedExtensions.has(name))) {
      throw new Error(`upload.allowed_types: the server cannot recognise "${type}" (known text types: ${Object.keys(TEXT_TYPES).join(', ')}; others must be detectable by file-type)`);
    }
  }

  return {
    async classify(originalName, head) {
      const extension = extensionOf(originalName);
      const sniffed = await fileTypeFromBuffer(head);

      if (extension === undefined) {
        if (sniffed) {
          const type = [...allowed].find((candidate) => !TEXT_TYPES[candidate] && sniffedNames(candidate).includes(sniffed.ext));
          if (!type) throw errors.unsupportedType(`不允许上传的文件类型: ${sniffed.ext}`);
          return { fileType: sniffed.ext, mimeType: sniffed.mime };
        }
        if (!allowed.has('txt')) throw errors.unsupportedType('不允许上传无扩展名的文件');
        if (!looksLikeText(head)) throw errors.unsupportedType('无扩展名的文件只能是文本');
        return { fileType: 'txt', mimeType: TEXT_TYPES.txt! };
      }

      if (!allowed.has(extension)) throw errors.unsupportedType(`不允许上传的文件类型: .${extension}`);
      const textMime = TEXT_TYPES[extension];
      if (textMime) {
        if (sniffed) throw errors.unsupportedType(`文件内容是 ${sniffed.ext}，与扩展名 .${extension} 不符`);
        if (!looksLikeText(head)) throw errors.unsupportedType(`.${extension} 文件必须是文本`);
        return { fileType: extension, mimeType: textMime };
      }
      if (!sniffed) throw errors.unsupportedType(`无法识别的文件内容，与扩展名 .${extension} 不符`);
      if (!sniffedNames(extension).includes(sniffed.ext)) {
        throw errors.unsupportedType(`文件内容是 ${sniffed.ext}，与扩展名 .${extension} 不符`);
      }
      return { fileType: extension, mimeType: sniffed.mime };
    },
  };
}

/** Image types an avatar may be, by sniffed bytes; the value is the extension the server uses. */
const AVATAR_TYPES: Record<string, { ext: string; mime: string }> = {
  png: { ext: 'png', mime: 'image/png' },
  jpg: { ext: 'jpg', mime: 'image/jpeg' },
  gif: { ext: 'gif', mime: 'image/gif' },
  webp: { ext: 'webp', mime: 'image/webp' },
};

/** The avatar's type from its leading bytes alone; 415 / 1008 for anything but png/jpeg/gif/webp. */
export async function classifyAvatar(head: Buffer): Promise<{ ext: string; mime: string }> {
  const sniffed = await fileTypeFromBuffer(head);
  const type = sniffed && AVATAR_TYPES[sniffed.ext];
  if (!type) throw errors.unsupportedType('头像只能是 PNG、JPEG、GIF 或 WebP 图片');
  return type;
}

/** The lowercase extension after the last dot, or undefined (`.bashrc`, `name.`, `name`). */
export function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1).toLowerCase();
}

function sniffedNames(extension: string): readonly string[] {
  return SNIFFED_AS[extension] ?? [extension];
}

function looksLikeText(head: Buffer): boolean {
  return !head.subarray(0, TEXT_CHECK_BYTES).includes(0);
}
