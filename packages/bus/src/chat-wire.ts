/**
 * What gateways (and later the API) publish to each other about chat. The frame travels as the
 * bytes clients receive, so a receiving gateway sends a slice of the payload without re-encoding
 * it, and the header carries what ordering needs (conversation, seq, id), so nothing parses the
 * frame's JSON.
 *
 *   2<TAB>m<TAB><conversation><TAB><seq><TAB><id><TAB><stored at, ms><TAB><frame JSON>
 *       a stored chat message: `seq` its place in the conversation, `id` its server id
 *   2<TAB>t<TAB><conversation><TAB>0<TAB>0<TAB>0<TAB><frame JSON>
 *       a transient frame (joined / left, file progress): not stored, not ordered
 *
 * The leading `2` is the format's version: a process that meets a version or kind it does not
 * know (a rolling deploy) gets `undefined` from decodeBusMessage, logs and ignores the payload;
 * what it skipped is stored, and the periodic MySQL check delivers it. Version 1 (no version
 * field, no conversation, no id) is refused the same way.
 */
export interface BusMessage {
  kind: 'stored' | 'transient';
  conversation: string;
  /** The message's place in its conversation; 0 for transient frames. */
  seq: number;
  /** The message's server id; 0 for transient frames. */
  id: number;
  /** When the message was stored, epoch ms; 0 for transient frames. */
  storedAtMs: number;
  /** The frame's JSON bytes: a slice of the payload, not a copy. */
  frame: Buffer;
}

const VERSION = 0x32; // '2'
const TAB = 0x09;
const KIND_STORED = 0x6d; // 'm'
const KIND_TRANSIENT = 0x74; // 't'
/** The version, the kind and their tabs. */
const CONVERSATION_AT = 4;
/** Where readNumber goes on: numbers are read in place, with no string or array per message. */
let cursor = 0;

export function encodeStored(conversation: string, seq: number, id: number, storedAtMs: number, frameJson: string): string {
  assertConversation(conversation);
  return `2\tm\t${conversation}\t${seq}\t${id}\t${storedAtMs}\t${frameJson}`;
}

export function encodeTransient(conversation: string, frameJson: string): string {
  assertConversation(conversation);
  return `2\tt\t${conversation}\t0\t0\t0\t${frameJson}`;
}

/** The payload's message, or undefined when it is not one this version understands. */
export function decodeBusMessage(payload: Buffer): BusMessage | undefined {
  if (payload.length < CONVERSATION_AT || payload[0] !== VERSION || payload[1] !== TAB || payload[3] !== TAB) return undefined;
  const kindByte = payload[2];
  if (kindByte !== KIND_STORED && kindByte !== KIND_TRANSIENT) return undefined;
  const conversationEnd = payload.indexOf(TAB, CONVERSATION_AT);
  if (conversationEnd <= CONVERSATION_AT) return undefined;
  cursor = conversationEnd + 1;
  const seq = readNumber(payload);
  const id = seq < 0 ? -1 : readNumber(payload);
  const storedAtMs = id < 0 ? -1 : readNumber(payload);
  if (storedAtMs < 0) return undefined;
  return {
    kind: kindByte === KIND_STORED ? 'stored' : 'transient',
    conversation: payload.toString('utf8', CONVERSATION_AT, conversationEnd),
    seq,
    id,
    storedAtMs,
    frame: payload.subarray(cursor),
  };
}

/** The decimal number at `cursor` up to the next tab, which it steps over; -1 when malformed. */
function readNumber(payload: Buffer): number {
  const start = cursor;
  let value = 0;
  for (; cursor < payload.length && payload[cursor] !== TAB; cursor += 1) {
    const digit = payload[cursor]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  if (cursor === start || cursor >= payload.length || !Number.isSafeInteger(value)) return -1;
  cursor += 1;
  return value;
}

function assertConversation(conversation: string): void {
  if (conversation.length === 0 || conversation.includes('\t')) {
    throw new TypeError(`bus: a conversation must be non-empty and without tabs, got ${JSON.stringify(conversation)}`);
  }
}
