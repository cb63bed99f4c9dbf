import { Readable } from 'node:stream';

/**
 * Reads the first `bytes` bytes (fewer if the stream ends first) and returns them with a stream
 * that yields every byte again, head included. Only the head is held in memory. Destroying the
 * returned stream destroys the source.
 */
export async function peekStream(source: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator: AsyncIterator<Buffer> = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const all = Buffer.concat(chunks);
  const rest = async function* () {
    try {
      if (all.length > 0) yield all;
      if (ended) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // Stopped early (the consumer gave up): release the source too.
      if (!ended) await iterator.return?.();
    }
  };
  return { head: all.subarray(0, bytes), stream: Readable.from(rest(), { objectMode: false }) };
}
