import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EventLog } from './event-log.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/gateway-process.ts', import.meta.url));
// Run from the repo root so `--import tsx` resolves from its node_modules.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ChildGatewayConfig {
  prefix: string;
  gatewayId: string;
  leaseMs: number;
  heartbeatMs: number;
  connections: Array<[room: string, userId: string]>;
  users?: string[];
}

/** A line the child printed: `{ type: 'ready' | 'resynced' | 'reaped' | 'user' | 'error', ... }`. */
export type ChildMessage = { type: string } & Record<string, unknown>;

/** A gateway in its own process, so a test can SIGKILL or SIGSTOP it like a real crash. */
export class ChildGateway {
  readonly messages = new EventLog<ChildMessage>();

  private constructor(readonly process: ChildProcess) {
    createInterface({ input: process.stdout! }).on('line', (line) => this.messages.push(JSON.parse(line)));
  }

  /** Starts the child and resolves once all its connections are registered. */
  static async start(config: ChildGatewayConfig): Promise<ChildGateway> {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config)], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const gateway = new ChildGateway(child);
    await gateway.messages.until(`${config.gatewayId} ready`, (messages) => messages.some((m) => m.type === 'ready'), 20_000);
    return gateway;
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** Kills the child if it still runs (SIGKILL also ends a stopped process). */
  async dispose(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }
}
