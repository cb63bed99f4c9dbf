type Listener = (...args: unknown[]) => void;

/**
 * A typed event emitter small enough for browsers and Node alike (EventTarget would need
 * CustomEvent wrappers and loses the payload types). A throwing listener does not stop the others.
 */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof Events>(type: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const entry = listener as unknown as Listener;
    set.add(entry);
    return () => void set.delete(entry);
  }

  protected emit<K extends keyof Events>(type: K, ...args: Events[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        // Reported, not rethrown here: one app bug must not stop frames reaching the other listeners.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
