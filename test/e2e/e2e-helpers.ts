import { request } from 'node:http';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { randomInt } from 'node:crypto';
import { ImClient } from '@im/client';
import { signUpWith } from '../support/cluster.ts';
import { join } from 'node:path';
import { BUILD_ENTRIES } from '../../scripts/build/entries.ts';
import { startProcess, type RunningProcess } from '../support/cluster-process.ts';

/**
 * An install of the production build (`npm ci --omit=dev` plus `npm run build`'s output), made by
 * scripts/check-production.sh; unset, tests run the sources.
 */
export const productionRoot = process.env.IM_PRODUCTION_ROOT || undefined;

/**
 * The start command as the README gives it: `npm start` (the sources under tsx), or with
 * IM_PRODUCTION_ROOT that install's `npm run start:prod` (its build on plain node, from its folder).
 */
export function startCommand(env: NodeJS.ProcessEnv): RunningProcess {
  if (!productionRoot) return startProcess('scripts/start.ts', env);
  return startProcess(join(productionRoot, BUILD_ENTRIES.start.output), env, { cwd: productionRoot });
}

/**
 * `count` consecutive free ports (the start command puts gateway i on base + i). Drawn below
 * Linux's ephemeral range, so `freePort()` answers never land in it.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = randomInt(20_000, 30_000 - count);
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
      // taken: draw again
    } finally {
      for (const server of servers) server.close();
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let counter = 0;

/** Registers and logs in through `base` (email verification off): the token a browser would hold. */
export async function signUp(base: string, label: string) {
  counter += 1;
  return signUpWith(new ImClient({ baseUrl: base }), `${label}${counter}${Math.random().toString(36).slice(2, 7)}`);
}

/** A GET from a chosen loopback address (127.0.0.2 …), to tell the client apart from the proxy. */
export function getFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The pid the start command printed for `service` (`gw-0: started (pid 123)`). */
export function pidOf(output: readonly string[], service: string): number {
  const line = output.find((l) => l.startsWith(`${service}: started (pid `));
  const pid = Number(/\(pid (\d+)\)/.exec(line ?? '')?.[1]);
  if (!pid) throw new Error(`no start line for ${service}`);
  return pid;
}
