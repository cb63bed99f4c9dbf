import { spawn, type ChildProcess } from 'node:child_process';

export interface ServiceSpec {
  name: string;
  /** Entry file, run with `node --import tsx`. */
  entry: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs the cluster's processes in the foreground. Their JSON log lines pass through to our stdout
 * as they are. If one exits on its own, the rest are stopped and we exit non-zero: a half-up
 * cluster is worse than a clear failure. SIGINT/SIGTERM stop everything gracefully.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  start(spec: ServiceSpec): void {
    const child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
      env: spec.env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.children.set(spec.name, child);
    child.on('exit', (code, signal) => {
      this.children.delete(spec.name);
      if (this.stopping) return;
      process.stderr.write(`${spec.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the cluster\n`);
      void this.stop(1);
    });
  }

  /** Sends SIGTERM to every child, waits for them (SIGKILL after `graceMs`), then exits. */
  async stop(exitCode = 0, graceMs = 20_000): Promise<never> {
    this.stopping = true;
    const waiting = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(waiting);
    process.exit(exitCode);
  }
}

/** Polls `url` until it answers 200, or throws after `timeoutMs`. */
export async function waitUntilReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
