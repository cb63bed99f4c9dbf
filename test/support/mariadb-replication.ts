import { createConnection } from 'mariadb';
import { startMariaDbServer, type TestMariaDbServer } from './mariadb-server.ts';

/**
 * A private MariaDB primary and a replica of it, each its own mariadbd, data directory and port
 * (IM_TEST_ENGINE_PORTS): GTID replication from the primary's binlog, never from the shared
 * server. Everything the primary stores (migrations included) reaches the replica.
 */
export interface TestReplication {
  primary: TestMariaDbServer;
  replica: TestMariaDbServer;
  /** Runs statements on the replica's server as root (stopping replication, a delay). */
  onReplica(...statements: string[]): Promise<void>;
  /** Resolves once the replica applied everything the primary has committed now. */
  waitCaughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startReplication(): Promise<TestReplication> {
  const primary = await startMariaDbServer({ flags: ['--log-bin=primary-bin', '--server-id=1', '--binlog-format=ROW'] });
  let replica: TestMariaDbServer | undefined;
  try {
    replica = await startMariaDbServer({ flags: ['--server-id=2', '--skip-slave-start'] });
  } catch (err) {
    await primary.stop();
    throw err;
  }
  const run = async (server: TestMariaDbServer, statements: string[]) => {
    const conn = await createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    try {
      const results = [];
      for (const statement of statements) results.push(await conn.query(statement));
      return results;
    } finally {
      await conn.end();
    }
  };
  const onReplica = async (...statements: string[]) => {
    await run(replica!, statements);
  };
  try {
    await onReplica(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='root', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
      'START SLAVE',
    );
  } catch (err) {
    await Promise.all([primary.stop(), replica.stop()]);
    throw err;
  }
  return {
    primary,
    replica,
    onReplica,
    async waitCaughtUp(timeoutMs = 20_000) {
      const [positions] = (await run(primary, ['SELECT @@GLOBAL.gtid_binlog_pos AS pos'])) as Array<Array<{ pos: string }>>;
      const pos = positions?.[0]?.pos;
      if (!pos) return;
      const [answers] = (await run(replica!, [`SELECT MASTER_GTID_WAIT('${pos}', ${timeoutMs / 1000}) AS waited`])) as Array<Array<{ waited: number | bigint }>>;
      const waited = answers?.[0]?.waited;
      if (Number(waited) !== 0) throw new Error(`replica did not reach ${pos} within ${timeoutMs} ms`);
    },
    async stop() {
      await Promise.all([primary.stop(), replica!.stop()]);
    },
  };
}
