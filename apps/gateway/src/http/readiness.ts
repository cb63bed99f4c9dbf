import type { Broker } from '@im/bus';
import type { ChatReader } from '@im/db';

export type CheckState = 'ok' | 'down';

export interface ReadinessSources {
  reader: Pick<ChatReader, 'ping'>;
  broker: Pick<Broker, 'isHealthy'>;
  /** Longest the MySQL check may take (system.readiness_timeout_ms). */
  timeoutMs: number;
  isDraining(): boolean;
}

/**
 * /readyz: MySQL answers within the deadline, the bus subscriptions are up, and the gateway is not
 * draining. The bus's health is known without a round trip (it pings its subscriber connection
 * every second, so a frozen Redis shows as down within about two); MySQL is asked, and a MySQL
 * that is frozen keeps the connection open without answering, so the answer is "down" once the
 * deadline passes rather than whenever the statement's own deadline (longer) fires.
 */
export async function readiness(sources: ReadinessSources): Promise<{ ready: boolean; checks: Record<'mysql' | 'redis', CheckState> }> {
  const mysql = await within(sources.timeoutMs, () => sources.reader.ping());
  const redis: CheckState = sources.broker.isHealthy() ? 'ok' : 'down';
  return { ready: mysql === 'ok' && redis === 'ok' && !sources.isDraining(), checks: { mysql, redis } };
}

/** 'ok' if `check` resolves within `ms`, 'down' if it rejects or takes longer (it is not cancelled). */
async function within(ms: number, check: () => Promise<void>): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckState>((resolve) => {
    // After the I/O the event loop has already received: a process starved of CPU (a loaded host)
    // wakes with both the timer due and the answer in its socket, and the answer should win.
    timer = setTimeout(() => setImmediate(() => resolve('down')), ms);
  });
  try {
    return await Promise.race([check().then(() => 'ok' as const), late]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
