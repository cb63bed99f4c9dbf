/**
 * What gateways publish to each other on a room's channel. The frame's JSON travels as the bytes
 * clients receive, so a receiving gateway sends a slice of the payload without re-encoding it.
 *
 *   m<TAB><seq><TAB><stored at, ms><TAB><frame JSON>   a stored chat message, `seq` its place
 *                                                     in the conversation
 *   p<TAB>0<TAB>0<TAB><frame JSON>                    a transient frame (joined / left, file
 *                                                     progress): not stored, not ordered
 */
export type WireMessage =
  | { kind: 'message'; seq: number; storedAtMs: number; frame: Buffer }
  | { kind: 'transient'; frame: Buffer };

const TAB = 0x09;

export function encodeMessage(seq: number, storedAtMs: number, frameJson: string): string {
  return `m\t${seq}\t${storedAtMs}\t${frameJson}`;
}

export function encodeTransient(frameJson: string): string {
  return `p\t0\t0\t${frameJson}`;
}

export function decodeWire(payload: Buffer): WireMessage | undefined {
  const first = payload.indexOf(TAB);
  const second = first < 0 ? -1 : payload.indexOf(TAB, first + 1);
  const third = second < 0 ? -1 : payload.indexOf(TAB, second + 1);
  if (first !== 1 || third < 0) return undefined;
  const frame = payload.subarray(third + 1);
  const kind = payload[0];
  if (kind === 0x70 /* p */) return { kind: 'transient', frame };
  if (kind !== 0x6d /* m */) return undefined;
  const seqText = payload.toString('latin1', first + 1, second);
  const storedAtMs = Number(payload.toString('latin1', second + 1, third));
  if (!/^\d+$/.test(seqText) || !Number.isFinite(storedAtMs)) return undefined;
  return { kind: 'message', seq: Number(seqText), storedAtMs, frame };
}
