import { LRUCache } from 'lru-cache';
import type { UserSummary } from '@im/protocol';

/** Looks users up by id; undefined for an unknown id. */
export interface UserLookup {
  get(userId: string): Promise<UserSummary | undefined>;
}

export interface UserDirectoryOptions {
  /** Reads the users with these ids (at most `maxBatch`); unknown ids are simply absent. */
  load(userIds: string[]): Promise<UserSummary[]>;
  /** Users remembered at most (its bookkeeping arrays are allocated up front). @default 50_000 */
  maxEntries?: number;
  /**
   * How long a remembered user is trusted: a new avatar or name shows in frames of sockets opened
   * later than this after the change. @default 60_000
   */
  ttlMs?: number;
  /** Most ids read in one query. @default 500 */
  maxBatch?: number;
}

/**
 * Who a user id is (name, avatar), for upgrades and presence notices. Every upgrade needs one,
 * and a reconnect storm brings thousands at once: answers are remembered (bounded, with a TTL),
 * concurrent lookups of one id share a query, and lookups that arrive in the same tick are read
 * together in one query. Unknown ids are not remembered, so a user created a moment ago is found.
 */
export class UserDirectory implements UserLookup {
  private readonly cache: LRUCache<string, UserSummary>;
  private readonly maxBatch: number;
  private queued = new Map<string, Array<(user: UserSummary | undefined) => void>>();
  private scheduled = false;
  private failures: Array<(err: unknown) => void> = [];

  constructor(private readonly options: UserDirectoryOptions) {
    const maxEntries = options.maxEntries ?? 50_000;
    const ttlMs = options.ttlMs ?? 60_000;
    this.maxBatch = options.maxBatch ?? 500;
    for (const [name, value] of Object.entries({ maxEntries, ttlMs, maxBatch: this.maxBatch })) {
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`UserDirectory: ${name} must be a positive integer, got ${value}`);
    }
    this.cache = new LRUCache<string, UserSummary>({
      max: maxEntries,
      ttl: ttlMs,
      // fetch() joins a lookup already under way for the same id.
      fetchMethod: (userId) => this.enqueue(userId),
    });
  }

  /** The user, or undefined when no user has this id. Rejects when the database fails. */
  async get(userId: string): Promise<UserSummary | undefined> {
    return this.cache.fetch(userId);
  }

  private enqueue(userId: string): Promise<UserSummary | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.queued.get(userId);
      if (waiting) waiting.push(resolve);
      else this.queued.set(userId, [resolve]);
      this.failures.push(reject);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const queued = this.queued;
    const failures = this.failures;
    this.queued = new Map();
    this.failures = [];
    this.scheduled = false;
    const ids = [...queued.keys()];
    try {
      const found = new Map<string, UserSummary>();
      const batches: Promise<void>[] = [];
      for (let i = 0; i < ids.length; i += this.maxBatch) {
        batches.push(
          this.options.load(ids.slice(i, i + this.maxBatch)).then((users) => {
            for (const user of users) found.set(user.userId, user);
          }),
        );
      }
      await Promise.all(batches);
      for (const [id, waiting] of queued) for (const resolve of waiting) resolve(found.get(id));
    } catch (err) {
      for (const reject of failures) reject(err);
    }
  }
}
