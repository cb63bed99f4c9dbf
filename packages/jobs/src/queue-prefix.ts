/**
 * Turns the deployment key prefix (config `redis.prefix`, e.g. `im:`) into a BullMQ prefix.
 *
 * BullMQ joins prefix and queue name with its own colon, so `im:` would give `im::mail:wait`.
 * Trailing colons are dropped to get `im:mail:wait`, in line with the deployment's other keys.
 * The API and the worker must both go through this function or they would use different keys.
 */
export function queuePrefix(prefix: string): string {
  const trimmed = prefix.replace(/:+$/, '');
  if (trimmed === '') {
    throw new RangeError(`jobs: redis prefix ${JSON.stringify(prefix)} is empty once its trailing ":" is removed`);
  }
  return trimmed;
}
