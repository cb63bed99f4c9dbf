import * as ws from 'ws';
import type { WebSocket } from 'ws';

/**
 * A text frame encoded once (header + payload in one buffer) for any number of sockets, as
 * Socket.IO does for broadcasts: fan-out then costs one socket write per recipient and no
 * per-recipient framing or allocation. Valid only because the gateway never compresses
 * (perMessageDeflate off) and server frames are never masked.
 *
 * ws has no public API for writing a frame framed elsewhere, so this module (and only this one)
 * relies on two of its internals: the static `Sender.frame` and a socket's `_sender.sendFrame`.
 * test/prepared-frame.test.ts holds the installed ws to them (what arrives is what `send` would
 * have sent, and the fast path is taken), and the gateway logs once if a ws upgrade removed them,
 * falling back to `send` (correct, slower).
 */
export interface PreparedFrame {
  /** The frame's JSON, for paths that need the text (history, single sends). */
  payload: Buffer;
  /** The complete WebSocket frame. */
  wire: Buffer;
}

interface SenderInternals {
  _sender?: { sendFrame(list: Buffer[], cb?: (err?: Error) => void): void };
}

// ws exports Sender at run time; its type declarations do not describe the static `frame`.
const Sender = (ws as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

export function prepareTextFrame(payload: Buffer): PreparedFrame {
  const parts = Sender.frame(payload, { fin: true, rsv1: false, opcode: 0x01, mask: false, readOnly: true });
  return { payload, wire: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}

/** Whether this socket takes prepared frames as they are (ws's internals have the expected shape). */
export function preparedFramesSupported(socket: WebSocket): boolean {
  const sender = (socket as unknown as SenderInternals)._sender;
  return typeof Sender?.frame === 'function' && typeof sender?.sendFrame === 'function';
}

/** Writes a prepared frame; falls back to a normal send if ws's internals ever change shape. */
export function sendPrepared(socket: WebSocket, frame: PreparedFrame): void {
  const sender = (socket as unknown as SenderInternals)._sender;
  if (sender && typeof sender.sendFrame === 'function') sender.sendFrame([frame.wire]);
  else socket.send(frame.payload, { binary: false });
}

/**
 * Writes several prepared frames as one socket write (catch-up sends a page at a time): each
 * write to a socket costs a system call that, on a loaded machine, costs more than the copy.
 */
export function sendPreparedBatch(socket: WebSocket, frames: PreparedFrame[]): void {
  if (frames.length === 0) return;
  const sender = (socket as unknown as SenderInternals)._sender;
  if (frames.length === 1 || !sender || typeof sender.sendFrame !== 'function') {
    for (const frame of frames) sendPrepared(socket, frame);
    return;
  }
  sender.sendFrame([Buffer.concat(frames.map((frame) => frame.wire))]);
}
