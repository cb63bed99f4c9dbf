import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mariadb';

/** A throwaway MariaDB server of this test's own, for settings the shared one cannot change. */
export interface PrivateMariaDb {
  /** `mysql://root@127.0.0.1:<port>/` + the database name to use. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

const INSTALL = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find(existsSync);
const SERVER = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find(existsSync);

/** Why a private server cannot be started here, or undefined when it can. */
export const privateMariaDbUnavailable = !INSTALL || !SERVER ? 'mariadb-install-db and mariadbd are not installed' : undefined;

/**
 * Initialises a data directory in a temporary folder and starts `mariadbd` on it with `flags`
 * (e.g. `--innodb-autoinc-lock-mode=2`, which is read-only on a running server). About a second.
 */
export async function startPrivateMariaDb(flags: string[]): Promise<PrivateMariaDb> {
  if (privateMariaDbUnavailable) throw new Error(privateMariaDbUnavailable);
  const dir = mkdtempSync(join(tmpdir(), 'im-mariadb-'));
  const datadir = join(dir, 'data');
  const user = userInfo().username;
  const install = spawnSync(INSTALL!, ['--no-defaults', `--datadir=${datadir}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], {
    encoding: 'utf8',
  });
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
  const port = await freePort();
  const output: string[] = [];
  const child: ChildProcess = spawn(
    SERVER!,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--user=${user}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      ...flags,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (chunk: Buffer) => output.push(String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => output.push(String(chunk)));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForServer(port, child, output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { urlFor: (database) => `mysql://root@127.0.0.1:${port}/${database}`, stop };
}

async function waitForServer(port: number, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited (${child.exitCode}):\n${output.join('').slice(-2000)}`);
    try {
      const conn = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1_000 });
      await conn.end();
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`mariadbd on ${port} not ready: ${(err as Error).message}\n${output.join('').slice(-2000)}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
