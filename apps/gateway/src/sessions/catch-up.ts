import type { WebSocket } from 'ws';
import type { ChatReader } from '@im/db';
import { prepareTextFrame, type PreparedFrame } from '../connections/prepared-frame.ts';
import type { Feeds } from '../fanout/feeds.ts';
import type { GatewayMetrics } from '../http/metrics.ts';

export interface CatchUpOptions {
  reader: Pick<ChatReader, 'framesAfterId' | 'seqThrough'>;
  feeds: Pick<Feeds, 'feed'>;
  metrics: GatewayMetrics;
  /** Messages per page (gateway.catchup_page_size). */
  pageSize: number;
  /** A page waits until the socket's unsent data is below this (half of gateway.max_buffered_bytes). */
  drainBelowBytes: number;
}

/** A stored message framed for catch-up, with its place in the conversation. */
interface HistoryFrame {
  seq: number;
  id: number;
  frame: PreparedFrame;
}

/**
 * What catches up: a Part 1 socket (its one conversation, `room`) or one conversation of an
 * `/api/chat` socket. Live frames queue in it while it catches up.
 */
export interface CatchUpTarget {
  readonly room: string;
  readonly isOpen: boolean;
  readonly ws: WebSocket;
  skipThrough(seq: number): void;
  sendHistoryPage(page: Iterable<HistoryFrame>): void;
  finishCatchUp(): void;
}

/** Catch-up cursors above this cannot be looked up in memory (ids are numbers there). */
const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * `last_id` catch-up: every stored message after the client's last one, page by page, then the
 * live frames that queued meanwhile, with no gap and no duplicate. Pages come from the feed's
 * recent frames in memory when they reach back far enough (a reconnect storm's thousands of
 * clients resume from nearly the same place), otherwise from MySQL, where clients asking for the
 * same page at once share one query and one framing.
 */
export class CatchUp {
  /** Pages being read from MySQL, by conversation and cursor: identical requests share one. */
  private readonly pages = new Map<string, Promise<HistoryFrame[]>>();

  constructor(private readonly options: CatchUpOptions) {}

  /** Sends what the connection lacks after `lastId`, then releases its live queue. */
  async run(connection: CatchUpTarget, lastId: bigint): Promise<void> {
    const { pageSize, metrics } = this.options;
    let cursor = lastId;
    for (;;) {
      const feed = this.options.feeds.feed(connection.room);
      const recent = cursor <= MAX_SAFE_ID ? feed?.recentAfter(Number(cursor), pageSize) : undefined;
      if (recent) {
        metrics.catchUpPages.inc({ source: 'memory' });
        connection.skipThrough(recent.throughSeq);
        connection.sendHistoryPage(recent.frames);
        const newest = recent.frames.at(-1);
        if (newest) cursor = BigInt(newest.id);
        if (!recent.more) break;
      } else {
        metrics.catchUpPages.inc({ source: 'mysql' });
        const frames = await this.page(connection.room, cursor);
        connection.sendHistoryPage(frames);
        const newest = frames.at(-1);
        if (newest) cursor = BigInt(newest.id);
        if (frames.length < pageSize) {
          // MySQL holds nothing newer: the client has every message through the cursor, and live
          // frames at or below its seq are repeats — including ones this gateway has not
          // delivered yet, which is why the seq comes from MySQL when no page named it.
          if (frames.length === 0) connection.skipThrough(await this.options.reader.seqThrough(connection.room, cursor));
          break;
        }
      }
      if (!connection.isOpen) break;
      await waitForDrain(connection.ws, this.options.drainBelowBytes);
    }
    connection.finishCatchUp();
  }

  private page(conversation: string, afterId: bigint): Promise<HistoryFrame[]> {
    const key = `${conversation}\t${afterId}`;
    let pending = this.pages.get(key);
    if (!pending) {
      pending = this.options.reader
        .framesAfterId(conversation, afterId, this.options.pageSize)
        .then((frames) => frames.map(({ seq, id, bytes }) => ({ seq, id, frame: prepareTextFrame(bytes) })))
        .finally(() => this.pages.delete(key));
      this.pages.set(key, pending);
    }
    return pending;
  }
}

/** Waits until the socket's send buffer is below `bytes` (or it closed), polling cheaply. */
async function waitForDrain(ws: WebSocket, bytes: number): Promise<void> {
  while (ws.readyState === ws.OPEN && ws.bufferedAmount > bytes) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
