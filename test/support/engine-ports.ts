import { createServer } from 'node:net';
import { once } from 'node:events';
import { randomInt } from 'node:crypto';

/**
 * Ports for private engines (a Redis to freeze, a second MariaDB): drawn from
 * `IM_TEST_ENGINE_PORTS` (`first-last`, default 24000-24999), never from the kernel's ephemeral
 * range, where any outgoing connection of the machine may take a port a moment later. The machine
 * is shared, so a drawn port is tried before it is handed out.
 */
export function enginePortRange(env: NodeJS.ProcessEnv = process.env): [number, number] {
  const raw = env.IM_TEST_ENGINE_PORTS ?? '24000-24999';
  const match = /^(\d+)-(\d+)$/.exec(raw.trim());
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(first >= 1024 && last <= 65535 && first <= last)) throw new Error(`IM_TEST_ENGINE_PORTS must be first-last, got ${JSON.stringify(raw)}`);
  return [first, last];
}

/** A port of the range that nobody listens on right now (on 127.0.0.1). */
export async function freeEnginePort(): Promise<number> {
  const [first, last] = enginePortRange();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = randomInt(first, last + 1);
    const server = createServer();
    try {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      return port;
    } catch {
      // taken: draw again
    } finally {
      server.close();
    }
  }
  throw new Error(`no free port in ${first}-${last} after 50 tries`);
}

/** `count` consecutive ports of the range nobody listens on right now (gateway i on first + i). */
export async function freeEnginePortBlock(count: number): Promise<number> {
  const [first, last] = enginePortRange();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = randomInt(first, last - count + 2);
    const servers = [];
    try {
      for (let port = base; port < base + count; port += 1) {
        const server = createServer();
        servers.push(server);
        server.listen(port, '127.0.0.1');
        await once(server, 'listening');
      }
      return base;
    } catch {
      // one of them is taken: draw again
    } finally {
      for (const server of servers) server.close();
    }
  }
  throw new Error(`no ${count} consecutive free ports in ${first}-${last} after 50 tries`);
}
