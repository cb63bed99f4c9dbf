/** Counts by key (HTTP status, envelope code, close code). */
export function countInto(counts: Record<string, number>, key: string | number): void {
  counts[String(key)] = (counts[String(key)] ?? 0) + 1;
}
