/**
 * Turns the deployment key prefix (config `redis.prefix`, e.g. `im:`) into a BullMQ prefix.
 *
 * BullMQ joins prefix and queue name with its own colon, so `im:` would give `im::mail:wait`.
 * Trailing colons are dropped to get `im:mail:wait`, in line with the deployment's other keys.
 *
 * On a Redis Cluster the prefix is a hash tag, `{im}`: BullMQ's Lua scripts touch several keys of
 * a queue at once, which a cluster only allows when they share a slot (otherwise CROSSSLOT). The
 * standalone form is kept so a running deployment's queued mail stays where it is.
 * The API and the worker must both go through this function or they would use different keys.
 */
export function queuePrefix(prefix: string, connection: { isCluster: boolean }): string {
  const trimmed = prefix.replace(/:+$/, '');
  if (trimmed === '') {
    throw new RangeError(`jobs: redis prefix ${JSON.stringify(prefix)} is empty once its trailing ":" is removed`);
  }
  return connection.isCluster ? `{${trimmed}}` : trimmed;
}
