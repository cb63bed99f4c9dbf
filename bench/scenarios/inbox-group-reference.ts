import type { ClientSpec } from '../loadgen/messages.ts';
import type { WatchedProcess } from '../metrics/proc-stats.ts';
import type { StepResult } from '../report/types.ts';
import { chatUrl, type BenchUser } from '../users.ts';
import { runFanout } from './fanout.ts';

export interface GroupReferenceOptions {
  gatewayUrls: string[];
  /** The first `size` of them join the group. */
  users: BenchUser[];
  size: number;
  rate: number;
  stepSeconds: number;
  warmupSeconds: number;
  payloadBytes: number;
  appProcesses: WatchedProcess[];
  log(line: string): void;
}

/**
 * The reference for the inbox's CPU bar ("no more than 1.2× the group fan-out's in the same
 * run"), measured on the same cluster minutes before: Part 1's group with as many sockets as a
 * room has members, spread over both gateways, every one of them sending, at the inbox's message
 * rate. Each message is then stored, published once and written to a room's worth of sockets, as
 * a room message on `/api/chat` is; what the inbox costs beyond that is what its multiplexing,
 * private chats, typing and receipts add. (The `group-fanout` scenario's 1,000-socket group shares
 * each message's fixed costs over twenty times as many deliveries, so it is no reference for rooms
 * of 50.)
 */
export async function groupReference(o: GroupReferenceOptions): Promise<StepResult> {
  const members = o.users.slice(0, o.size);
  const clients: ClientSpec[] = members.map((u, i) => ({ id: i, room: 0, url: chatUrl(o.gatewayUrls[i % o.gatewayUrls.length]!, u) }));
  const result = await runFanout({
    target: 'ours',
    protocol: 'im',
    clients,
    roomSizes: [clients.length],
    senders: clients.map((c) => c.id),
    rates: [o.rate],
    stepSeconds: o.stepSeconds,
    warmupSeconds: o.warmupSeconds,
    payloadBytes: o.payloadBytes,
    workers: 2,
    appProcesses: o.appProcesses,
    connectConcurrency: 50,
    log: (line) => o.log(line.replace('ours:', 'ours (Part 1 group reference):')),
  });
  return result.steps[0]!;
}
