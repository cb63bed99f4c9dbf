import type { MemoryPresenceHub } from './presence-memory.ts';
import type { OfflineGrace } from './offline-grace.ts';
import { assertPositiveInteger, assertUserId } from './validate.ts';

// Pending notices per hub (user → when due), beside the hub's presence like Redis keeps both.
const hubDue = new WeakMap<MemoryPresenceHub, Map<string, number>>();

export interface MemoryOfflineGraceOptions {
  /** Graces on one hub act as gateways of one cluster (the hub of their presences). */
  hub: MemoryPresenceHub;
  graceMs: number;
  /** @default Date.now */
  now?: () => number;
}

/** OfflineGrace for one process (unit tests, in-process gateways). */
export function createMemoryOfflineGrace(options: MemoryOfflineGraceOptions): OfflineGrace {
  const now = options.now ?? Date.now;
  const { graceMs } = options;
  assertPositiveInteger('graceMs', graceMs);
  const pending = hubDue.get(options.hub) ?? new Map<string, number>();
  hubDue.set(options.hub, pending);
  return {
    async wentOffline(userId) {
      assertUserId(userId);
      pending.set(userId, now() + graceMs);
    },
    async cameOnline(userId) {
      assertUserId(userId);
      return { tellPeers: !pending.delete(userId) };
    },
    async takeDue(max) {
      assertPositiveInteger('max', max);
      const taken: string[] = [];
      const at = now();
      for (const [userId, dueAt] of pending) {
        if (taken.length >= max) break;
        if (dueAt > at) continue;
        pending.delete(userId);
        taken.push(userId);
      }
      return taken;
    },
  };
}
