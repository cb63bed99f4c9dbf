import type { Broker } from '@im/bus';
import type { Presence } from '@im/presence';
import type { Feeds } from '../fanout/feeds.ts';

/** How long a message waits for the cluster-wide online count before settling for a local one. */
const ONLINE_COUNT_WAIT_MS = 250;

export interface OnlineCountSources {
  broker: Pick<Broker, 'isHealthy'>;
  presence: Pick<Presence, 'onlineCount'>;
  feeds: Pick<Feeds, 'feed'>;
}

/**
 * The room's cluster-wide online count from presence. While Redis is unhealthy (or slow), the
 * distinct users connected here stand in: never below 1, since the sender is online.
 */
export async function onlineCountFor(sources: OnlineCountSources, room: string): Promise<number> {
  const local = () => new Set([...(sources.feeds.feed(room)?.recipients ?? [])].map((recipient) => recipient.userId)).size || 1;
  if (!sources.broker.isHealthy()) return local();
  let timer: NodeJS.Timeout | undefined;
  const fallback = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(local()), ONLINE_COUNT_WAIT_MS);
  });
  try {
    return await Promise.race([sources.presence.onlineCount(room).catch(local), fallback]);
  } finally {
    clearTimeout(timer);
  }
}
