import type { ChaosCluster } from './chaos-cluster.ts';

export interface FaultContext {
  cluster: ChaosCluster;
  /** How long a pause or freeze lasts. */
  pauseMs: number;
  /** A signed-up user the faults may log in with (the worker fault's mail). */
  spare: { email: string; password: string };
  note(line: string): void;
}

export interface Fault {
  name: string;
  /** What the report calls it. */
  title: string;
  /**
   * Injects the fault and resolves when its cause is gone (the fault's end): at once after a
   * kill -9 (the supervisor or the engine's own restart takes over), after the pause for a freeze,
   * after the engine is started again for a restart. `until` is an extra condition recovery waits
   * for, besides readiness and chat flowing again.
   */
  run(ctx: FaultContext): Promise<{ until?: Promise<Record<string, number>> }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const FAULTS: Fault[] = [
  {
    name: 'gateway-kill',
    title: 'kill -9 of a gateway',
    async run({ cluster, note }) {
      const pid = cluster.pidOf('gw-0');
      process.kill(pid, 'SIGKILL');
      note(`killed gw-0 (pid ${pid})`);
      return {};
    },
  },
  {
    name: 'worker-kill',
    title: 'kill -9 of the mail worker',
    async run({ cluster, spare, note }) {
      const pid = cluster.pidOf('worker');
      process.kill(pid, 'SIGKILL');
      note(`killed the worker (pid ${pid}); asking for a login code meanwhile`);
      // A login while the worker is away: its mail must wait in the queue and go out once it is back.
      const sentBefore = cluster.smtp.mails.length;
      const askedAt = Date.now();
      const answer = await fetch(`${cluster.publicUrl}/api/users/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spare),
      }).then((r) => r.json() as Promise<{ code: number }>);
      if (answer.code !== 0) note(`the login during the worker's absence answered code ${answer.code}`);
      const until = cluster.smtp
        .waitFor((m) => cluster.smtp.mails.indexOf(m) >= sentBefore && JSON.stringify(m.to).includes(spare.email), 120_000)
        .then(() => ({ mail_delay_ms: Date.now() - askedAt, login_code: answer.code }));
      return { until };
    },
  },
  {
    name: 'redis-restart',
    title: 'Redis restarted with empty data',
    async run({ cluster, note }) {
      await cluster.redis.kill();
      await cluster.redis.restart();
      note('Redis killed and started again, empty');
      return {};
    },
  },
  {
    name: 'redis-pause',
    title: 'Redis frozen (SIGSTOP)',
    async run({ cluster, pauseMs, note }) {
      await cluster.redis.pause();
      note(`Redis frozen for ${pauseMs / 1000} s`);
      await sleep(pauseMs);
      await cluster.redis.resume();
      return {};
    },
  },
  {
    name: 'mysql-restart',
    title: 'MariaDB killed and restarted',
    async run({ cluster, note }) {
      await cluster.mariadb.kill();
      await cluster.mariadb.restart();
      note('MariaDB killed (-9) and started again (crash recovery)');
      return {};
    },
  },
  {
    name: 'mysql-freeze',
    title: 'MariaDB frozen (SIGSTOP)',
    async run({ cluster, pauseMs, note }) {
      await cluster.mariadb.freeze();
      note(`MariaDB frozen for ${pauseMs / 1000} s`);
      await sleep(pauseMs);
      await cluster.mariadb.thaw();
      return {};
    },
  },
];
