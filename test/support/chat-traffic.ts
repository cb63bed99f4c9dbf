import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChatClient } from './chat-client.ts';

/** Ids of the chat messages (frames with an `id`) a client received, in arrival order. */
export function chatIds(client: ChatClient, fromFrame = 0): number[] {
  return client.frames.slice(fromFrame).filter((f) => f.id !== undefined).map((f) => f.id as number);
}

/** The id of the last chat message a client received (what it would reconnect with as last_id). */
export function lastChatId(client: ChatClient): number | undefined {
  return chatIds(client).at(-1);
}

/** Resolves once the client received a chat message with id ≥ `id` (or rejects on timeout/close). */
export function waitForId(client: ChatClient, id: number, timeoutMs = 20_000): Promise<unknown> {
  return client.next((f) => f.id !== undefined && f.id >= id, timeoutMs);
}

/**
 * Polls `check` until it returns a truthy value, for state that announces no event (an HTTP
 * status, a Redis key). Fails with `what` and the last value seen.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await delay(intervalMs);
  }
}

/**
 * Asserts `got` is exactly `expected` (same ids, same order). On failure the message names the
 * first difference, the missing ids and the duplicates, which is what one needs to debug a gap.
 */
export function assertSameIds(got: number[], expected: number[], label: string): void {
  if (got.length === expected.length && got.every((id, i) => id === expected[i])) return;
  const want = new Set(expected);
  const seen = new Map<number, number>();
  for (const id of got) seen.set(id, (seen.get(id) ?? 0) + 1);
  const missing = expected.filter((id) => !seen.has(id));
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const extra = got.filter((id) => !want.has(id));
  const firstDiff = got.findIndex((id, i) => id !== expected[i]);
  const outOfOrder = got.findIndex((id, i) => i > 0 && id <= got[i - 1]!);
  assert.fail(
    `${label}: received ${got.length} messages, expected ${expected.length}; ` +
      `first difference at index ${firstDiff === -1 ? Math.min(got.length, expected.length) : firstDiff}; ` +
      `missing ${JSON.stringify(missing.slice(0, 20))}${missing.length > 20 ? '…' : ''} (${missing.length}); ` +
      `duplicates ${JSON.stringify(duplicates.slice(0, 20))}; unexpected ${JSON.stringify(extra.slice(0, 20))}; ` +
      `first out-of-order index ${outOfOrder}` +
      `; got ${JSON.stringify(got.slice(0, 60))}${got.length > 60 ? '…' : ''}`,
  );
}

/** Sends a frame and resolves once `ws` handed it to the kernel (not when the server read it). */
export function sendFlushed(client: ChatClient, frame: unknown): Promise<void> {
  return new Promise((resolve, reject) => client.ws.send(JSON.stringify(frame), (err) => (err ? reject(err) : resolve())));
}

export interface Chatter {
  /** Messages stored so far (the sender got its own frame back). */
  readonly acked: number;
  /** Refusals (msg_type 1) and lost senders; a healthy run has none. */
  readonly failures: string[];
  /** Resolves once `count` more messages than at call time were acknowledged. */
  waitForMore(count: number, timeoutMs?: number): Promise<void>;
  /** Stops sending and waits for the last message of each sender to be acknowledged. */
  stop(): Promise<void>;
}

/**
 * Steady traffic, the way real users send: each sender sends one message, waits for its own frame
 * back (the server's acknowledgement: the message is stored), pauses `intervalMs`, repeats. A
 * refused message (msg_type 1, e.g. storage failed) is resent with the same client_msg_id, which
 * the server deduplicates, as the contract tells clients to do.
 */
export function startChatter(senders: ChatClient[], { label = 'chat', intervalMs = 40 } = {}): Chatter {
  let running = true;
  let acked = 0;
  const failures: string[] = [];
  const waiters = new Set<() => void>();

  const loop = async (client: ChatClient, index: number) => {
    for (let n = 0; running; n += 1) {
      const clientMsgId = `${label}-${index}-${n}`;
      for (let attempt = 0; ; attempt += 1) {
        const from = client.frames.length;
        try {
          client.send({ content: clientMsgId, msg_type: 4, client_msg_id: clientMsgId });
          const reply = await client.next((f) => f.client_msg_id === clientMsgId, 30_000, from);
          if (reply.id !== undefined) break;
          failures.push(`${clientMsgId}: refused ${reply.code} ${reply.content}`);
        } catch (err) {
          failures.push(`${clientMsgId}: ${(err as Error).message}`);
          return;
        }
        if (attempt >= 20) return;
        await delay(200);
      }
      acked += 1;
      for (const wake of waiters) wake();
      await delay(intervalMs);
    }
  };
  const loops = senders.map((client, i) => loop(client, i));

  return {
    get acked() {
      return acked;
    },
    failures,
    waitForMore(count, timeoutMs = 30_000) {
      const target = acked + count;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (acked < target) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${acked}/${target} messages acknowledged within ${timeoutMs} ms; failures: ${failures.join('; ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
