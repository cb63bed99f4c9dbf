import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { nodeFlagsFor } from '../../scripts/build/entries.ts';

export { freePort } from '@im/testing';

export interface RunningProcess {
  child: ChildProcess;
  output: string[];
  /** The exit code once the process ends by itself or is stopped. */
  exited: Promise<number | null>;
  /** Resolves when a line containing `text` appears in stdout or stderr. */
  waitForLine(text: string, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts `<entry>` with extra environment: a source under tsx (`node --import tsx`, from the
 * repository root), or a bundle of the build on plain node. `cwd` runs it elsewhere (an installed
 * copy of the build, for instance).
 */
export function startProcess(entry: string, env: NodeJS.ProcessEnv, options: { cwd?: string } = {}): RunningProcess {
  const child = spawn(process.execPath, [...nodeFlagsFor(entry), entry], {
    env: { ...process.env, ...env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      output.push(line);
      for (const listener of listeners) listener(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  return {
    child,
    output,
    exited,
    waitForLine(text, timeoutMs = 60_000) {
      const seen = output.find((line) => line.includes(text));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no line with "${text}" within ${timeoutMs} ms; output:\n${output.slice(-30).join('\n')}`));
        }, timeoutMs);
        const listener = (line: string) => {
          if (!line.includes(text)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        void exited.then((code) => {
          clearTimeout(timer);
          listeners.delete(listener);
          reject(new Error(`process exited (${code}) before "${text}"; output:\n${output.slice(-30).join('\n')}`));
        });
      });
    },
    async stop(graceMs = 25_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
