/**
 * Reads a MySQL read replica may serve without ever showing a gap.
 *
 * A replica applies the primary's transactions in commit order, some time later. A page read
 * there could end before a message the client already has (a live frame, its own send), and the
 * client would take the page as complete. So before a read, the primary's binlog position is
 * asked (`@@gtid_binlog_pos`: a variable, no table touched) and the replica is given `waitMs` to
 * reach it (`MASTER_GTID_WAIT`). Once it has, the replica holds everything the primary had
 * committed when the request started, which includes whatever the client saw or wrote before it;
 * if it has not (lagging, stopped, unreachable), the read goes to the primary. MariaDB's GTIDs:
 * MySQL names the same pair `@@gtid_executed` and `WAIT_FOR_EXECUTED_GTID_SET`.
 */

/** One statement on a pool: its rows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of any statement; each caller names its row type
type Query = (sql: string, values?: readonly unknown[]) => Promise<any[]>;

export interface ReplicaCheckOptions {
  primary: Query;
  replica: Query;
  /** How long a read may wait for the replica to catch up before going to the primary. */
  waitMs: number;
  /** Told when the replica could not be asked (down, frozen past its deadline). */
  onReplicaError?: (err: unknown) => void;
}

/** Resolves true when the replica has applied everything the primary committed before the call. */
export type ReplicaCheck = () => Promise<boolean>;

export function replicaCheck({ primary, replica, waitMs, onReplicaError = () => {} }: ReplicaCheckOptions): ReplicaCheck {
  return async () => {
    const [head] = await primary('SELECT @@GLOBAL.gtid_binlog_pos AS pos');
    const position = String(head?.pos ?? '');
    // Nothing was ever written through the binlog: there is nothing to miss.
    if (position === '') return true;
    try {
      const [waited] = await replica('SELECT MASTER_GTID_WAIT(?, ?) AS waited', [position, waitMs / 1000]);
      return Number(waited?.waited) === 0;
    } catch (err) {
      onReplicaError(err);
      return false;
    }
  };
}

/** A runner of single statements: a SqlRunner of the primary or of the replica. */
interface Runner {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of any statement; each caller names its row type
  query<T = any>(sql: string, values?: readonly unknown[]): Promise<T>;
}

/**
 * Picks where a read of several statements (an inbox page) runs: the replica once it caught up
 * (replicaCheck), the primary otherwise, and always the primary without a replica.
 */
export function createReadPicker<R extends Runner>(options: {
  primary: R;
  replica?: R | undefined;
  waitMs: number;
  onReplicaError?: (err: unknown) => void;
}): () => Promise<R> {
  const { primary, replica } = options;
  if (!replica) return async () => primary;
  const caughtUp = replicaCheck({
    primary: (sql, values) => primary.query(sql, values),
    replica: (sql, values) => replica.query(sql, values),
    waitMs: options.waitMs,
    ...(options.onReplicaError ? { onReplicaError: options.onReplicaError } : {}),
  });
  return async () => ((await caughtUp()) ? replica : primary);
}
