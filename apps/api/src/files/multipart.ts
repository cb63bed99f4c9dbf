import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { errors } from '@im/protocol';

/** The one file part of an upload. */
export interface IncomingFile {
  /** The part's bytes. The handler must consume or fail; the request waits on it. */
  stream: Readable;
  /** File name as the client sent it (UTF-8), possibly empty. Metadata only. */
  name: string;
}

/** 1002 with the problem listed under `data.errors`, like every other invalid input. */
function formError(message: string) {
  return errors.invalidParameter(message, { errors: [{ field: 'file', message }] });
}

/** Limits on everything in the form that is not the file. */
const FORM_LIMITS = { files: 1, fields: 10, parts: 12, fieldSize: 4096, fieldNameSize: 100, headerPairs: 20 };

/**
 * Streams a `multipart/form-data` request whose only file is in the field `file` into `handle`,
 * which stores it and returns what it stored. Resolves once the whole body is parsed and `handle`
 * has finished. Any failure — no `file`, a second file, a malformed body, the client hanging up,
 * or `handle` throwing (too large, wrong type) — rejects with that first failure; if `handle` had
 * already stored something, `discard` removes it first. After a failure the rest of the body is
 * left unread: the app answers and closes the connection (middleware/close-unread-body.ts).
 */
export async function receiveSingleFile<R>(
  req: IncomingMessage,
  handle: (file: IncomingFile) => Promise<R>,
  discard: (stored: R) => Promise<void>,
): Promise<R> {
  if (!/^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')) {
    throw errors.unsupportedType('请使用 multipart/form-data 上传，文件放在 file 字段');
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: FORM_LIMITS });
  } catch {
    throw formError('multipart 请求格式错误');
  }

  let failure: unknown;
  let pending: Promise<R> | undefined;
  let rejectFailed!: (reason: unknown) => void;
  const failed = new Promise<never>((_resolve, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {});

  const fail = (reason: unknown) => {
    if (failure !== undefined) return;
    failure = reason;
    req.unpipe(parser);
    // Ends the file stream being handled with an error, so storage deletes its temporary file.
    parser.destroy();
    rejectFailed(reason);
  };

  const hungUp = () => fail(formError('上传未完成，连接已断开'));
  req.once('aborted', hungUp);
  req.once('error', hungUp);
  req.once('close', () => {
    if (!req.complete) hungUp();
  });

  parser.on('file', (field, stream, info) => {
    // Failures reach the handler through its own reads; this only keeps a late one from being
    // an uncaught 'error' event.
    stream.on('error', () => {});
    if (field !== 'file' || pending) {
      stream.resume();
      fail(formError(field === 'file' ? '一次只能上传一个文件' : `文件字段必须叫 file，收到 ${field}`));
      return;
    }
    pending = handle({ stream, name: info.filename ?? '' });
    pending.catch(fail);
  });
  parser.on('filesLimit', () => fail(formError('一次只能上传一个文件')));
  parser.on('partsLimit', () => fail(formError('表单字段过多')));
  parser.on('fieldsLimit', () => fail(formError('表单字段过多')));
  parser.on('error', () => fail(formError('multipart 请求格式错误')));
  const parsed = new Promise<void>((resolve) => parser.once('close', resolve));

  req.pipe(parser);
  try {
    await Promise.race([parsed, failed]);
    if (!pending) throw formError('缺少文件字段 file');
    return await Promise.race([pending, failed]);
  } catch (err) {
    fail(err);
    if (pending) {
      const stored = await pending.then(
        (value) => ({ value }),
        () => undefined,
      );
      if (stored) await discard(stored.value);
    }
    throw failure;
  }
}
