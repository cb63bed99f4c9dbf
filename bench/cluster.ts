import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createConnection } from 'mariadb';
import { parse, stringify } from 'yaml';
import { loadConfig, projectRoot, type Config } from '@im/config';
import { applyMigrations, poolConfigFromUrl } from '@im/db';
import { freePort } from '@im/testing';
import type { WatchedProcess } from './metrics/proc-stats.ts';

export { freePort };

/** A process the bench started: its output is kept (last lines) for error messages. */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

export interface BenchClusterOptions {
  /** @default 2 */
  gateways?: number;
  /** Turn the emailed login code on (login scenario). @default false */
  emailVerification?: boolean;
  /** Also run the mail worker, sending to this SMTP URL (login scenario). */
  smtpUrl?: string;
  /** Settings merged over config/settings.yaml, section by section (written to IM_CONFIG). */
  settings?: Record<string, Record<string, unknown>>;
  /** Extra environment for every process. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The API and N gateways (and the mail worker when asked) as real processes, on a fresh database
 * `im_bench_<hex>` and a Redis prefix of their own, with the bench's limits written to a temporary
 * IM_CONFIG file. `stop()` ends them, drops the database and deletes the prefix's keys.
 */
export interface BenchCluster {
  apiUrl: string;
  gatewayUrls: string[];
  databaseUrl: string;
  databaseName: string;
  prefix: string;
  /** The configuration the processes run with (secret, issuer, limits). */
  config: Config;
  api: BenchProcess;
  gateways: BenchProcess[];
  worker?: BenchProcess;
  processes(): WatchedProcess[];
  /** Starts gateway i again on its port (after a kill -9). */
  restartGateway(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Clean-ups of everything started and not yet stopped (clusters, baselines): run.ts calls
 * `stopEverything()` on SIGINT/SIGTERM so an interrupted run leaves no database or keys behind.
 */
const active = new Set<() => Promise<void>>();

export function trackCleanup(stop: () => Promise<void>): () => Promise<void> {
  const once = async () => {
    if (!active.delete(once)) return;
    await stop();
  };
  active.add(once);
  return once;
}

export async function stopEverything(): Promise<void> {
  await Promise.allSettled([...active].map((stop) => stop()));
}

/** Limits raised so the bench measures the server, not its abuse protection. */
export const BENCH_SETTINGS: Record<string, Record<string, unknown>> = {
  gateway: { messages_per_second: 100_000, max_buffered_bytes: 64 * 1024 * 1024 },
  rate_limit: { login_per_ip: 10_000_000, login_per_account: 10_000_000, register_per_ip: 10_000_000 },
};

export async function startBenchCluster(options: BenchClusterOptions = {}): Promise<BenchCluster> {
  const base = loadConfig();
  const databaseName = `im_bench_${randomBytes(5).toString('hex')}`;
  const server = new URL(base.mysql.url);
  server.pathname = `/${databaseName}`;
  const databaseUrl = server.toString();
  await applyMigrations(databaseUrl, resolve(projectRoot, 'prisma/migrations'));
  const prefix = `bench-${randomBytes(4).toString('hex')}:`;

  const settingsDir = mkdtempSync(join(tmpdir(), 'im-bench-'));
  const settingsFile = join(settingsDir, 'settings.yaml');
  const file = parse(readFileSync(resolve(projectRoot, 'config/settings.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  for (const overrides of [BENCH_SETTINGS, options.settings ?? {}]) {
    for (const [section, values] of Object.entries(overrides)) file[section] = { ...file[section], ...values };
  }
  writeFileSync(settingsFile, stringify(file));

  const env: NodeJS.ProcessEnv = {
    IM_CONFIG: settingsFile,
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: prefix,
    EMAIL_VERIFICATION: String(options.emailVerification ?? false),
    LOG_LEVEL: 'warn',
    MAIL_OUTBOX_DIR: join(settingsDir, 'outbox'),
    UPLOAD_ROOT: join(settingsDir, 'uploads'),
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    ...options.env,
  };
  const config = loadConfig({ env: { ...process.env, ...env } });

  const apiPort = await freePort();
  const api = startProcess('api', 'apps/api/src/index.ts', { ...env, API_PORT: String(apiPort), PORT: String(apiPort) });
  const ports = await Promise.all(Array.from({ length: options.gateways ?? 2 }, () => freePort()));
  const startGateway = (i: number) =>
    startProcess(`gw-${i}`, 'apps/gateway/src/index.ts', { ...env, GATEWAY_PORT: String(ports[i]), GATEWAY_ID: `bench-gw-${i}` });
  const gateways = ports.map((_, i) => startGateway(i));
  const worker = options.smtpUrl ? startProcess('worker', 'apps/worker/src/index.ts', { ...env, WORKER_PORT: String(await freePort()) }) : undefined;
  const gatewayUrls = ports.map((port) => `http://127.0.0.1:${port}`);
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const stop = trackCleanup(async () => {
    await Promise.all([api.stop(), ...gateways.map((g) => g.stop()), worker?.stop()]);
    await dropDatabase(databaseUrl, databaseName).catch((err: Error) => process.stderr.write(`bench: dropping ${databaseName}: ${err.message}\n`));
    await deletePrefix(config.redis.url, prefix).catch((err: Error) => process.stderr.write(`bench: cleaning ${prefix}*: ${err.message}\n`));
    rmSync(settingsDir, { recursive: true, force: true });
  });

  try {
    await Promise.all([waitReady(apiUrl, api), ...gateways.map((g, i) => waitReady(gatewayUrls[i]!, g))]);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    apiUrl,
    gatewayUrls,
    databaseUrl,
    databaseName,
    prefix,
    config,
    api,
    gateways,
    worker,
    processes() {
      const list: WatchedProcess[] = [
        { name: 'api', role: 'server', pid: api.child.pid! },
        ...gateways.map((g) => ({ name: g.name, role: 'server' as const, pid: g.child.pid! })),
      ];
      if (worker) list.push({ name: 'worker', role: 'server', pid: worker.child.pid! });
      return list;
    },
    async restartGateway(i) {
      gateways[i] = startGateway(i);
      await waitReady(gatewayUrls[i]!, gateways[i]!);
    },
    stop,
  };
}

/** `node --import tsx <entry>` from the repository root; output kept, never blocking the pipe. */
export function startProcess(name: string, entry: string, env: NodeJS.ProcessEnv, args: string[] = []): BenchProcess {
  // `--profile DIR`: node writes the profile when the process exits after SIGTERM (not on SIGKILL).
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${name}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry, ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) output.push(line);
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    name,
    child,
    output,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitReady(base: string, proc: BenchProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before it was ready:\n${proc.output.slice(-20).join('\n')}`);
    }
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} (${base}) not ready within ${timeoutMs} ms:\n${proc.output.slice(-20).join('\n')}`);
}


async function dropDatabase(url: string, name: string): Promise<void> {
  const { database: _unused, ...server } = poolConfigFromUrl(url);
  const conn = await createConnection(server);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

/** Deletes this run's keys (SCAN + UNLINK of `prefix*`); never touches anything else. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
