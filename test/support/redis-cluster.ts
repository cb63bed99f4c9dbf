import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freeEnginePort } from './engine-ports.ts';
import { untilRedisReady } from './redis-server.ts';

const run = promisify(execFile);

/**
 * A private Redis Cluster for black-box tests: six `redis-server --cluster-enabled yes` children
 * (three masters, three replicas) in a temporary directory, on ports of IM_TEST_ENGINE_PORTS
 * (client and cluster-bus ports both: Redis's default bus port, client + 10000, could fall in the
 * kernel's ephemeral range). Killed by pid, never by name. A node timeout of one second makes a
 * replica take over a killed master within a few seconds.
 */
export interface TestRedisCluster {
  /** `host:port` of every node, for `REDIS_CLUSTER_NODES`. */
  seeds: string[];
  nodes: ClusterNode[];
  /** SIGKILLs the master that serves `key`'s slot; resolves once the process is gone. */
  killMasterOf(key: string): Promise<ClusterNode>;
  /** Starts a killed node again on its ports and its nodes.conf: it rejoins with its old role and slots, empty. */
  restart(node: ClusterNode): Promise<void>;
  /** Resolves once every live node says cluster_state:ok and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The node's answer to a command (e.g. `INFO commandstats`), on a short-lived connection. */
  ask(node: ClusterNode, ...command: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

export interface ClusterNode {
  port: number;
  busPort: number;
  readonly running: boolean;
  readonly pid: number | undefined;
}

const NODE_COUNT = 6;

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'im-redis-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: ClusterNode[] = [];
  const taken = new Set<number>();
  const drawPort = async () => {
    for (;;) {
      const port = await freeEnginePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  const stop = async () => {
    await Promise.all(children.map((child) => killChild(child)));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < NODE_COUNT; i += 1) {
      const port = await drawPort();
      const busPort = await drawPort();
      children.push(await startNode(dir, port, busPort));
      const index = i;
      const alive = () => children[index]!.exitCode === null && children[index]!.signalCode === null;
      nodes.push({
        port,
        busPort,
        get running() {
          return alive();
        },
        get pid() {
          return alive() ? children[index]!.pid : undefined;
        },
      });
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }

  const ask = async (node: ClusterNode, ...command: string[]) => {
    const client = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.call(command[0]!, ...command.slice(1));
    } finally {
      client.disconnect();
    }
  };

  const waitHealthy = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const live = nodes.filter((node) => node.running);
        const infos = await Promise.all(live.map((node) => ask(node, 'CLUSTER', 'INFO')));
        const states = infos.map((info) => /cluster_state:(\w+)/.exec(String(info))?.[1]);
        // Every slot served by a master that is running (a killed one may still be listed until
        // the others marked it failed).
        const slots = (await ask(live[0]!, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
        const livePorts = new Set(live.map((node) => node.port));
        const served = slots.every((range) => livePorts.has(Number(range[2][1])));
        if (states.every((state) => state === 'ok') && served) return;
        last = `states ${states.join(',')}, all slots on live masters: ${served}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms (${last})`);
  };

  try {
    await waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    seeds: nodes.map((node) => `127.0.0.1:${node.port}`),
    nodes,
    ask,
    waitHealthy,
    async restart(node) {
      const index = nodes.indexOf(node);
      if (node.running) throw new Error(`cluster node ${node.port} is running`);
      children[index] = await startNode(dir, node.port, node.busPort);
    },
    async killMasterOf(key) {
      const live = nodes.find((node) => node.running)!;
      const slot = Number(await ask(live, 'CLUSTER', 'KEYSLOT', key));
      const slots = (await ask(live, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
      const range = slots.find(([first, last]) => slot >= first && slot <= last)!;
      const index = nodes.findIndex((node) => node.port === Number(range[2][1]));
      await killChild(children[index]!);
      return nodes[index]!;
    },
    stop,
  };
}

async function startNode(dir: string, port: number, busPort: number): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--cluster-port', String(busPort),
    '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout', '1000',
    // A replica takes over however recently it synced (a test may kill a master right after start).
    '--cluster-replica-validity-factor', '0',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await untilRedisReady(child, `cluster node ${port}`, []);
  return child;
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
