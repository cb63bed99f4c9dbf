import type { ChatReader, ConversationHead } from '@im/db';

/** Most conversations one statement asks about. */
const BATCH = 500;

interface Waiting {
  resolve(head: ConversationHead): void;
  reject(err: unknown): void;
}

/**
 * Where conversations stand, for feeds starting: the heads asked for in one turn of the event
 * loop are read together (`ChatReader.heads`), so a socket joining its 500 rooms costs one
 * statement, not 500 queued on the reader's pool (and past its deadline on a loaded machine).
 */
export class HeadBatcher {
  private queued = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(private readonly reader: Pick<ChatReader, 'heads'>) {}

  readonly head = (conversation: string): Promise<ConversationHead> =>
    new Promise((resolve, reject) => {
      const waiting = this.queued.get(conversation);
      if (waiting) waiting.push({ resolve, reject });
      else this.queued.set(conversation, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });

  private async flush(): Promise<void> {
    const queued = this.queued;
    this.queued = new Map();
    this.scheduled = false;
    const conversations = [...queued.keys()];
    await Promise.all(
      Array.from({ length: Math.ceil(conversations.length / BATCH) }, async (_, i) => {
        const chunk = conversations.slice(i * BATCH, (i + 1) * BATCH);
        try {
          const heads = await this.reader.heads(chunk);
          for (const conversation of chunk) for (const w of queued.get(conversation)!) w.resolve(heads.get(conversation) ?? { seq: 0, id: 0 });
        } catch (err) {
          for (const conversation of chunk) for (const w of queued.get(conversation)!) w.reject(err);
        }
      }),
    );
  }
}
