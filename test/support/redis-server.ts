import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freeEnginePort } from './engine-ports.ts';
import { freezeProcess, thawProcess } from './freeze-process.ts';

/**
 * A private `redis-server` child on its own port (test/support/engine-ports.ts), for tests that
 * must kill or freeze Redis without hurting other test files (they share the one on 6379). No
 * persistence: a restart starts empty, like a cache node that was replaced.
 */
export interface TestRedisServer {
  port: number;
  url: string;
  output: string[];
  /** The running server's pid (undefined while it is down). */
  readonly pid: number | undefined;
  /** Whether the server process is running now. */
  readonly running: boolean;
  /** SIGKILL: connections drop at once, nothing is saved. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`), resolving when it accepts connections. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers, as with a stalled VM. Resolves once stopped. */
  pause(): Promise<void>;
  /** SIGCONT after `pause`. */
  resume(): Promise<void>;
  /** Stops it for good (after the test; resumes it first if paused). */
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<TestRedisServer> {
  const port = await freeEnginePort();
  const output: string[] = [];
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} not ready:\n${output.slice(-10).join('\n')}`)), 10_000);
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          output.push(line);
          if (line.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${port} exited (${code}):\n${output.slice(-10).join('\n')}`));
      });
    });
  };

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const killWith = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || !alive()) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    // A stopped process acts on SIGKILL too, but let it run so nothing is left half-stopped.
    proc.kill('SIGCONT');
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    output,
    get pid() {
      return alive() ? child!.pid : undefined;
    },
    get running() {
      return alive();
    },
    kill: () => killWith('SIGKILL'),
    restart: launch,
    pause: async () => {
      if (alive()) await freezeProcess(child!.pid!);
    },
    resume: async () => {
      if (alive()) await thawProcess(child!.pid!);
    },
    stop: () => killWith('SIGKILL'),
  };
}
