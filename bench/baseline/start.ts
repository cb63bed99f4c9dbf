import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deletePrefix, freePort, startProcess, trackCleanup, waitReady, type BenchProcess } from '../cluster.ts';
import type { WatchedProcess } from '../metrics/proc-stats.ts';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

export interface Baseline {
  urls: string[];
  servers: BenchProcess[];
  processes(): WatchedProcess[];
  stop(): Promise<void>;
}

/** Starts `count` Socket.IO baseline processes (two, as the issue asks) sharing one Redis. */
export async function startBaseline(redisUrl: string, count = 2): Promise<Baseline> {
  const prefix = `bench-sio-${randomBytes(4).toString('hex')}:`;
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const servers = ports.map((port, i) => startProcess(`sio-${i}`, SERVER, { PORT: String(port), REDIS_URL: redisUrl, REDIS_PREFIX: prefix }));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const stop = trackCleanup(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await deletePrefix(redisUrl, prefix).catch(() => {});
  });
  try {
    await Promise.all(servers.map((s, i) => waitReady(urls[i]!, s)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    urls,
    servers,
    processes: () => servers.map((s) => ({ name: s.name, role: 'baseline' as const, pid: s.child.pid! })),
    stop,
  };
}
