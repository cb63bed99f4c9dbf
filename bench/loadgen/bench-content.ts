/**
 * The content of a bench message: `B|<step>|<sender>|<seq>|<intended send time, µs>|xxxx…`,
 * padded to the payload size. Plain ASCII without quotes, so it needs no escaping inside the
 * server's JSON frame and a receiver finds and reads it in the raw bytes without parsing JSON.
 */
export interface BenchTag {
  step: number;
  sender: number;
  seq: number;
  sendAtUs: number;
}

const PAD = 'x'.repeat(65_536);

export function benchContent(step: number, sender: number, seq: number, sendAtUs: number, bytes: number): string {
  const head = `B|${step}|${sender}|${seq}|${sendAtUs}|`;
  return head.length >= bytes ? head : head + PAD.slice(0, bytes - head.length);
}

/** `"B|` — where the content starts inside one of our JSON frames. */
export const FRAME_MARK = Buffer.from('"B|');

/** Reads the tag at `pos` (just after `B|`) in `bytes`; undefined when it is not one. */
export function readTag(bytes: Buffer | string, pos: number): BenchTag | undefined {
  const values = [0, 0, 0, 0];
  const isString = typeof bytes === 'string';
  for (let field = 0; field < 4; field++) {
    let value = 0;
    let digits = 0;
    for (;;) {
      const c = isString ? bytes.charCodeAt(pos) : bytes[pos];
      pos += 1;
      if (c === 0x7c /* | */) break;
      if (c === undefined || Number.isNaN(c) || c < 0x30 || c > 0x39) return undefined;
      value = value * 10 + (c - 0x30);
      digits += 1;
    }
    if (digits === 0) return undefined;
    values[field] = value;
  }
  return { step: values[0]!, sender: values[1]!, seq: values[2]!, sendAtUs: values[3]! };
}

/** The `"id":<n>` of one of our chat frames, for reconnecting with last_id; 0 when absent. */
export function readFrameId(bytes: Buffer): number {
  const at = bytes.indexOf(ID_MARK);
  if (at < 0) return 0;
  let value = 0;
  for (let pos = at + ID_MARK.length; pos < bytes.length; pos++) {
    const c = bytes[pos]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

const ID_MARK = Buffer.from('"id":');
