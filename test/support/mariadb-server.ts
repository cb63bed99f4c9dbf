import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mariadb';
import { freeEnginePort } from './engine-ports.ts';
import { freezeProcess, thawProcess } from './freeze-process.ts';

/**
 * A private MariaDB server (`mariadbd`) on its own port and data directory, for tests that must
 * stop or freeze MySQL without hurting the shared server on 3306. Installed fresh into a temporary
 * directory (mariadb-install-db, about a second), root without a password on 127.0.0.1 only.
 */
export interface TestMariaDbServer {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/<database>`; the migrations create the database. */
  databaseUrl(database: string): string;
  output: string[];
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGSTOP: connections stay open and nothing answers, as with a stalled disk or VM. Resolves once stopped. */
  freeze(): Promise<void>;
  /** SIGCONT after `freeze`. */
  thaw(): Promise<void>;
  /** SIGKILL: a crash; InnoDB recovers on `restart`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (after `kill`), resolving once it answers. */
  restart(): Promise<void>;
  /** Kills it and deletes its data directory. */
  stop(): Promise<void>;
}

const INSTALL = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find(existsSync);
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find(existsSync);
// Small, so a test server costs little memory and disk on a shared machine.
const SMALL = ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=8M', '--skip-log-bin', '--skip-name-resolve'];

/** Why a private server cannot be started here (for `skip`), or undefined when it can. */
export const mariaDbServerUnavailable = !INSTALL || !MARIADBD ? 'mariadb-install-db and mariadbd are not installed' : undefined;

export interface MariaDbServerOptions {
  /** Server options a running server cannot change, e.g. `--innodb-autoinc-lock-mode=2`. */
  flags?: string[];
}

export async function startMariaDbServer(options: MariaDbServerOptions = {}): Promise<TestMariaDbServer> {
  if (mariaDbServerUnavailable) throw new Error(mariaDbServerUnavailable);
  const dir = mkdtempSync(join(tmpdir(), 'im-mariadb-'));
  const datadir = join(dir, 'data');
  const user = userInfo().username;
  // Its own tmpdir from the first start on: mariadb-install-db runs `mariadbd --bootstrap`, which
  // deletes the `#sql*` files of its tmpdir as the server does (see launch below).
  const install = spawnSync(
    INSTALL!,
    ['--no-defaults', `--datadir=${datadir}`, `--tmpdir=${dir}`, '--auth-root-authentication-method=normal', '--skip-test-db', `--user=${user}`, ...SMALL],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.status}):\n${(install.stderr || install.stdout || String(install.error)).slice(-2000)}`);
  }

  const port = await freeEnginePort();
  const output: string[] = [];
  let child: ChildProcess | undefined;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      MARIADBD!,
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--port=${port}`,
        `--socket=${join(dir, 'mysqld.sock')}`,
        // Its own tmpdir: at start mariadbd deletes every `#sql*` file in its tmpdir, and with the
        // default (/tmp, shared with the machine's MariaDB) that removed the temporary tables of
        // queries running on the shared server at that moment ("Error on delete of '/tmp/#sql-…'").
        `--tmpdir=${dir}`,
        '--bind-address=127.0.0.1',
        `--user=${user}`,
        ...SMALL,
        ...(options.flags ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const onData = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!alive()) throw new Error(`mariadbd on ${port} exited (${proc.exitCode ?? proc.signalCode}):\n${output.slice(-15).join('\n')}`);
      try {
        const conn = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1_000 });
        await conn.end();
        return;
      } catch {
        // still starting
      }
      if (Date.now() > deadline) throw new Error(`mariadbd on ${port} did not answer within 30 s:\n${output.slice(-15).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    if (!proc || !alive()) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    proc.kill('SIGCONT');
    await exited;
  };

  try {
    await launch();
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    databaseUrl: (database) => `mysql://root@127.0.0.1:${port}/${database}`,
    output,
    get pid() {
      return alive() ? child!.pid : undefined;
    },
    get running() {
      return alive();
    },
    freeze: async () => {
      if (alive()) await freezeProcess(child!.pid!);
    },
    thaw: async () => {
      if (alive()) await thawProcess(child!.pid!);
    },
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
