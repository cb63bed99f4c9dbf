import { spawn, type ChildProcess } from 'node:child_process';
import { nodeFlagsFor } from '../build/entries.ts';

export interface ServiceSpec {
  name: string;
  /**
   * Entry file run by this node: a source under tsx, a bundle of the build on plain node (see
   * `nodeFlagsFor`). Give either this or `command`.
   */
  entry?: string;
  /** Any other program (nginx), run with `args`. */
  command?: string;
  /** @default [] */
  args?: string[];
  env: NodeJS.ProcessEnv;
  /** Polled until it answers 200: `start()` resolves then, and so does a restart's log line. */
  readyUrl?: string;
  /**
   * Once it has been ready, an exit of its own starts it again after a backoff (1 s, doubling up
   * to 30 s, back to 1 s after a minute of running) instead of stopping the cluster. Only a
   * process that fails before it was ever ready stops the cluster.
   * @default true
   */
  restart?: boolean;
  /** Signal for a graceful stop. @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals;
  /**
   * Stopped only after every other service has exited. For the front door: the gateways' goodbye
   * frames (close 1012, "reconnect") still travel through it while they drain.
   * @default false
   */
  stopLast?: boolean;
}

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** A service that ran this long before exiting starts the backoff over. */
const HEALTHY_RUN_MS = 60_000;

interface Service {
  spec: ServiceSpec;
  child?: ChildProcess;
  startedAt: number;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
  /** Has answered its readyUrl once; only then does `restart` apply. */
  wasReady: boolean;
}

/**
 * Runs the cluster's processes in the foreground. Their log lines pass through to our stdout and
 * stderr as they are; ours are plain lines on stderr. A service that exits on its own after it was
 * ready once is started again with backoff while the rest keep serving: clients of a crashed
 * gateway reconnect to the others through the front door, logins go on while the mail worker is
 * away (their mails wait in the queue), and a crashed API is back within a second or two. A
 * service that exits before it was ever ready stops the whole cluster with exit code 1: that is a
 * broken setup, not a crash, and a half-up cluster is worse than a clear failure.
 * SIGINT/SIGTERM stop everything.
 */
export class Supervisor {
  private readonly services = new Map<string, Service>();
  private stopping = false;

  /** Starts `spec`; resolves once its `readyUrl` answers 200 (at once without one). */
  async start(spec: ServiceSpec, readyTimeoutMs = 30_000): Promise<void> {
    const service: Service = { spec, startedAt: 0, backoffMs: FIRST_BACKOFF_MS, wasReady: false };
    this.services.set(spec.name, service);
    const child = this.spawn(service, false);
    await whenReady(spec, child, readyTimeoutMs);
    service.wasReady = true;
  }

  private spawn(service: Service, isRestart: boolean): ChildProcess {
    const { spec } = service;
    const [command, args] = spec.command
      ? [spec.command, spec.args ?? []]
      : nodeCommand(spec.entry ?? missingEntry(spec.name), spec.args ?? []);
    const child = spawn(command, args, { env: spec.env, stdio: ['ignore', 'inherit', 'inherit'] });
    service.child = child;
    service.startedAt = Date.now();
    if (!isRestart) note(`${spec.name}: started (pid ${child.pid})`);

    child.on('error', (err) => {
      // Only when it could not be started at all (no such program): there is no exit event then.
      note(`${spec.name}: cannot start ${command}: ${err.message}`);
      if (!this.stopping) void this.stop(1);
    });
    child.on('exit', (code, signal) => {
      if (service.child === child) service.child = undefined;
      if (this.stopping) return;
      const how = signal ?? `code ${code}`;
      if (spec.restart === false || !service.wasReady) {
        note(`${spec.name} exited unexpectedly (${how}); stopping the cluster`);
        void this.stop(1);
        return;
      }
      if (Date.now() - service.startedAt >= HEALTHY_RUN_MS) service.backoffMs = FIRST_BACKOFF_MS;
      const delay = service.backoffMs;
      service.backoffMs = Math.min(delay * 2, MAX_BACKOFF_MS);
      note(`${spec.name} exited unexpectedly (${how}); restarting it in ${delay / 1000} s`);
      service.restartTimer = setTimeout(() => {
        service.restartTimer = undefined;
        if (this.stopping) return;
        const next = this.spawn(service, true);
        whenReady(spec, next, 30_000).then(
          () => note(`${spec.name}: restarted (pid ${next.pid}) and ready`),
          (err: Error) => note(`${spec.name}: restarted (pid ${next.pid}) but ${err.message}`),
        );
      }, delay);
    });
    return child;
  }

  /**
   * Stops every service with its stop signal and waits (SIGKILL after `graceMs`): the others
   * first, then the `stopLast` ones. Then exits with `exitCode`.
   */
  async stop(exitCode = 0, graceMs = 20_000): Promise<never> {
    if (this.stopping) return new Promise<never>(() => {});
    this.stopping = true;
    const all = [...this.services.values()];
    for (const service of all) clearTimeout(service.restartTimer);
    await Promise.all(all.filter((s) => !s.spec.stopLast).map((s) => stopOne(s, graceMs)));
    await Promise.all(all.filter((s) => s.spec.stopLast).map((s) => stopOne(s, graceMs)));
    note(exitCode === 0 ? 'IM cluster stopped.' : 'IM cluster stopped after a failure.');
    process.exit(exitCode);
  }
}

function stopOne(service: Service, graceMs: number): Promise<void> {
  const child = service.child;
  return new Promise<void>((resolve) => {
    if (!child || hasExited(child)) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(service.spec.stopSignal ?? 'SIGTERM');
  });
}

/** Resolves once `child` answers its readyUrl (at once when it has none). */
function whenReady(spec: ServiceSpec, child: ChildProcess, timeoutMs: number): Promise<void> {
  return spec.readyUrl ? waitUntilReady(spec.readyUrl, timeoutMs, () => hasExited(child)) : Promise.resolve();
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

function nodeCommand(entry: string, args: string[]): [string, string[]] {
  return [process.execPath, [...nodeFlagsFor(entry), entry, ...args]];
}

function missingEntry(name: string): never {
  throw new Error(`supervisor: service ${name} has neither entry nor command`);
}

/**
 * Polls `url` until it answers 200. Throws after `timeoutMs`, or as soon as `gone()` says the
 * process behind it has exited.
 */
export async function waitUntilReady(url: string, timeoutMs = 30_000, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone()) throw new Error(`the process behind ${url} exited before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
