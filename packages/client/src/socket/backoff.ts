/** Reconnect delays. Defaults suit a chat client: quick first retry, at most 30 s apart. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. @default 500 */
  initialMs?: number;
  /** Upper bound of any delay. @default 30_000 */
  maxMs?: number;
  /** Growth per failed attempt. @default 2 */
  factor?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): exponential growth capped at
 * `maxMs`, with "equal jitter" — half of it fixed, half random — so thousands of clients dropped
 * by one gateway spread their retries out, yet none retries at once in a tight loop.
 * `random` returns [0, 1) (Math.random by default; tests pass their own).
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
