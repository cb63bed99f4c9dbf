/** Calls every listener; one that throws is reported and does not stop the others. */
export function emit<T>(listeners: Set<(event: T) => void>, event: T, onError: (err: unknown) => void): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (err) {
      onError(err);
    }
  }
}

export function addListener<T>(listeners: Set<T>, listener: T): () => void {
  if (typeof listener !== 'function') throw new TypeError('presence: listener must be a function');
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export const reportToConsole = (err: unknown): void => {
  console.error('[presence]', err);
};
