import type { ChatReader, PrivateMessageRef } from '@im/db';
import type { Feeds } from './feeds.ts';

export type TailSource = Pick<ChatReader, 'lastSeqs' | 'lastMessageId' | 'privateMessagesAfter'>;

/** Conversations per `lastSeqs` statement. */
const LAST_SEQS_CHUNK = 1_000;
/** Private messages per scan page, and pages per check (50,000 private messages between two checks). */
const SCAN_PAGE = 5_000;
const SCAN_PAGES = 10;

/**
 * The periodic MySQL check for stored messages whose publish never arrived here (a gateway that
 * died between storing and publishing, a Redis outage, a payload this version could not read).
 * History is the truth; the bus only makes delivery fast.
 *
 * - Every feed here: one query for the latest seqs, then a resync only of the feeds that are
 *   behind (cheap with thousands of conversations).
 * - Private chats with no feed here: a private message travels on its users' channels, and the
 *   feed that delivers it to an `/api/chat` socket is made by its first message (a stranger's
 *   included). When that message was never published, no feed exists to notice it is behind,
 *   so the check also scans the private messages stored since its last run (by id, with one
 *   check's overlap: ids are taken before commit, so a lower id can commit a moment after a
 *   higher one) and makes the feed for those that one of its users here is owed.
 */
export class TailCheck {
  /** Scans read ids above this: where the check before the last one ended (one check of overlap). */
  private floor: number | undefined;
  private lastReached: number | undefined;

  constructor(private readonly source: TailSource) {}

  /** Where the private scan reads from: an id stored a check or two ago (undefined until MySQL answered). */
  get floorId(): number | undefined {
    return this.floor;
  }

  /** Marks where the private scan starts: messages stored before the gateway started are not its business. */
  async start(): Promise<void> {
    this.floor = await this.source.lastMessageId();
  }

  async run(feeds: Feeds): Promise<void> {
    await this.resyncLaggingFeeds(feeds);
    await this.scanPrivateMessages(feeds);
  }

  private async resyncLaggingFeeds(feeds: Feeds): Promise<void> {
    const conversations = feeds.conversations();
    for (let i = 0; i < conversations.length; i += LAST_SEQS_CHUNK) {
      const chunk = conversations.slice(i, i + LAST_SEQS_CHUNK);
      const stored = await this.source.lastSeqs(chunk);
      for (const conversation of chunk) {
        const feed = feeds.feed(conversation);
        const last = stored.get(conversation);
        if (feed && last !== undefined && feed.isBehind(last)) void feed.resync();
      }
    }
  }

  private async scanPrivateMessages(feeds: Feeds): Promise<void> {
    // The start did not reach MySQL: begin now (what was stored meanwhile reaches clients when they resume).
    if (this.floor === undefined) return this.start();
    let after = this.floor;
    for (let page = 0; page < SCAN_PAGES; page += 1) {
      const messages = await this.source.privateMessagesAfter(after, SCAN_PAGE);
      recover(feeds, messages);
      after = messages.at(-1)?.id ?? after;
      if (messages.length < SCAN_PAGE) break;
    }
    this.floor = this.lastReached ?? this.floor;
    this.lastReached = after;
  }
}

/** Feeds for the private messages no feed here has seen; they read them from MySQL in order. */
function recover(feeds: Feeds, messages: PrivateMessageRef[]): void {
  const firstSeq = new Map<string, number>();
  for (const { conversation, seq } of messages) {
    if (feeds.feed(conversation)) continue; // a feed here: resyncLaggingFeeds sees it behind
    firstSeq.set(conversation, Math.min(seq, firstSeq.get(conversation) ?? seq));
  }
  for (const [conversation, seq] of firstSeq) void feeds.adoptStoredPrivate(conversation, seq)?.resync();
}
