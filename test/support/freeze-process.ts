import { readFileSync } from 'node:fs';

/**
 * SIGSTOP, resolved once the kernel shows the whole process stopped. The signal is delivered
 * asynchronously: on a busy machine a server can still answer a request sent right after kill(2)
 * returned, which a test would take for "answers while frozen".
 */
export async function freezeProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitForState(pid, (state) => state === 'T' || state === 't', 'stopped');
}

/** SIGCONT, resolved once the process runs again. */
export async function thawProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGCONT');
  await waitForState(pid, (state) => state !== 'T' && state !== 't', 'running');
}

async function waitForState(pid: number, wanted: (state: string) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const state = processState(pid);
    if (state === undefined || wanted(state)) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} not ${what} within 5 s (state ${state})`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The one-letter state of /proc/<pid>/stat (R, S, T …); undefined once the process is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may contain spaces: the state follows its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
