import { conversationFrame, type ChatFrame, type FileUrlSigner } from '@im/protocol';
import { prepareTextFrame, type PreparedFrame } from '../connections/prepared-frame.ts';

/** A prepared Part 1 frame with its `/api/chat` form, made once per gateway for every socket. */
interface WithPart2 extends PreparedFrame {
  part2?: PreparedFrame;
  /** When a file frame's signed link was made: links are remade after REFRESH_MS. */
  part2At?: number;
}

/**
 * Signed links live at least `upload.url_ttl_seconds` (which may be as short as 10 s): a file
 * frame kept for catch-up gets a fresh link once its own is this old. Remaking one costs a parse.
 */
const REFRESH_MS = 5_000;
const OPEN_BRACE = 0x7b;

/**
 * The `/api/chat` form of a stored message (docs/protocol-part2.md): Part 1's frame with
 * `conversation` first and, in a file frame, the file's signed `url`. Feeds and catch-up hold Part 1
 * frames (what the bus and MySQL carry, what Part 1 sockets get); this is made from one the first
 * time an `/api/chat` socket needs it and kept with it, so a message costs it once per gateway,
 * not once per socket. A frame without a file is spliced as bytes, not parsed.
 */
export function part2Frame(conversation: string, frame: PreparedFrame, sign: FileUrlSigner, now = Date.now()): PreparedFrame {
  const cached = frame as WithPart2;
  if (cached.part2 && (cached.part2At === undefined || now - cached.part2At < REFRESH_MS)) return cached.part2;
  const payload = frame.payload;
  let bytes: Buffer;
  if (payload.includes('"file":{')) {
    bytes = Buffer.from(JSON.stringify(conversationFrame(JSON.parse(payload.toString('utf8')) as ChatFrame, conversation, sign)));
    cached.part2At = now;
  } else {
    if (payload[0] !== OPEN_BRACE) throw new Error('part2Frame: not a JSON object');
    bytes = Buffer.concat([Buffer.from(`{"conversation":${JSON.stringify(conversation)},`), payload.subarray(1)]);
  }
  cached.part2 = prepareTextFrame(bytes);
  return cached.part2;
}

/** Whether a transient frame is an `/api/chat` frame (it names its conversation first); Part 1's presence and file notices are not. */
export function isConversationFrame(frame: PreparedFrame): boolean {
  return frame.payload.subarray(0, 16).toString('latin1') === '{"conversation":';
}
