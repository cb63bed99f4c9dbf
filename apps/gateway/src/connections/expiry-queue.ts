/** What the queue needs from an item: when it expires, and a slot where the queue keeps its place. */
export interface Expiring {
  /** Epoch milliseconds at which the item expires. */
  readonly expiresAt: number;
  /** The item's index in the queue's heap, -1 while not queued. Only the queue writes it. */
  expiryIndex: number;
}

export interface ExpiryQueueOptions<T> {
  /** Called once for each item whose `expiresAt` has passed; the item is already out of the queue. */
  onExpired(item: T): void;
  /** The clock, epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** setTimeout's longest delay; a later expiry re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Items in expiry order (a binary min-heap), served by one timer armed for the earliest. One
 * timer for every socket's token instead of a Timeout per socket: a per-socket timer with its own
 * duration costs a Timeout, a closure and a timer list of its own, about 400 bytes each.
 * Adding and removing are O(log n); each item remembers its index, so removing needs no search.
 */
export class ExpiryQueue<T extends Expiring> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  private timerAt = Infinity;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: ExpiryQueueOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.heap.length;
  }

  add(item: T): void {
    if (item.expiryIndex !== -1) throw new Error('ExpiryQueue: item is already queued');
    item.expiryIndex = this.heap.length;
    this.heap.push(item);
    this.siftUp(item.expiryIndex);
    if (item.expiresAt < this.timerAt) this.arm();
  }

  /** Takes the item out; nothing happens if it is not queued. */
  remove(item: T): void {
    const index = item.expiryIndex;
    if (index === -1) return;
    item.expiryIndex = -1;
    const last = this.heap.pop()!;
    if (last !== item) {
      this.heap[index] = last;
      last.expiryIndex = index;
      this.siftDown(index);
      this.siftUp(last.expiryIndex);
    }
    // A timer armed for an earlier item just fires, finds nothing due and re-arms; only an empty
    // queue needs no timer at all.
    if (this.heap.length === 0) this.disarm();
  }

  /** Stops the timer for good (shutdown); nothing expires afterwards. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    try {
      while (this.heap.length > 0 && this.heap[0]!.expiresAt <= now) {
        const item = this.heap[0]!;
        this.remove(item);
        this.options.onExpired(item);
      }
    } finally {
      this.arm();
    }
  };

  private arm(): void {
    this.disarm();
    const first = this.heap[0];
    if (!first || this.stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, first.expiresAt - this.now()));
    this.timerAt = first.expiresAt;
    this.timer = setTimeout(this.fire, delay);
    // Sockets keep the process alive, never their expiry.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private siftUp(index: number): void {
    const { heap } = this;
    const item = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.expiresAt <= item.expiresAt) break;
      heap[index] = parent;
      parent.expiryIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.expiryIndex = index;
  }

  private siftDown(index: number): void {
    const { heap } = this;
    const item = heap[index]!;
    const half = heap.length >> 1;
    while (index < half) {
      let childIndex = 2 * index + 1;
      let child = heap[childIndex]!;
      const right = heap[childIndex + 1];
      if (right && right.expiresAt < child.expiresAt) {
        childIndex += 1;
        child = right;
      }
      if (item.expiresAt <= child.expiresAt) break;
      heap[index] = child;
      child.expiryIndex = index;
      index = childIndex;
    }
    heap[index] = item;
    item.expiryIndex = index;
  }
}
