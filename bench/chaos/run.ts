// `npm run chaos -- [--quick] [--faults a,b] [--clients N] [--rate R] [--pause S] [--out DIR]`
// Starts the cluster as `npm start` does, on a private Redis and a private MariaDB of its own
// (ports from IM_TEST_ENGINE_PORTS, default 24000-24999; temporary data directories), puts steady
// chat on it through the front door, injects the faults one after another and reports, for each,
// what clients saw and how long recovery took (report.ts). See bench/README.md, "Chaos".
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createConnection } from 'mariadb';
import { projectRoot } from '@im/config';
import { ChatLoad } from './chat-load.ts';
import { startChaosCluster, type ChaosCluster } from './chaos-cluster.ts';
import { FAULTS } from './faults.ts';
import { HttpProbe, PresenceWatch, ReadinessWatch } from './observers.ts';
import { buildReport, toMarkdown, type FaultWindow } from './report.ts';

const HELP = `npm run chaos -- [options]
  --quick            a short run: 12 clients, 3 s pauses (also what the CI smoke test runs)
  --faults a,b       only these, in this order (${FAULTS.map((f) => f.name).join(', ')})
  --clients N        chat clients (default 40; quick 12)
  --rate R           messages per second over all clients (default 20; quick 12)
  --pause S          seconds a pause or freeze lasts (default 20; quick 3)
  --gateways N       gateways the start command runs (default 2)
  --front-door K     auto | nginx | node (default auto)
  --out DIR          where the report goes (default bench/results)`;

const args = parseArgs(process.argv.slice(2));
const quick = args.flags.has('quick');
const settings = {
  clients: args.number('clients', quick ? 12 : 40),
  rate: args.number('rate', quick ? 12 : 20),
  pauseMs: args.number('pause', quick ? 3 : 20) * 1000,
  gateways: args.number('gateways', 2),
  frontDoor: args.values.get('front-door') ?? 'auto',
  warmupMs: quick ? 2_000 : 10_000,
  settleMs: quick ? 2_000 : 10_000,
  recoveryLimitMs: quick ? 45_000 : 120_000,
  outDir: resolve(projectRoot, args.values.get('out') ?? 'bench/results'),
};
const faults = args.values.has('faults')
  ? args.values.get('faults')!.split(',').map((name) => FAULTS.find((f) => f.name === name.trim()) ?? fail(`unknown fault ${name}; known: ${FAULTS.map((f) => f.name).join(', ')}`))
  : FAULTS;

const note = (line: string) => process.stderr.write(`chaos: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: ChaosCluster | undefined;
const stopAll = async () => {
  await cluster?.stop().catch((err: Error) => note(`stopping the cluster: ${err.message}`));
  cluster = undefined;
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

try {
  note(`starting a cluster on a private Redis and MariaDB (${settings.gateways} gateways, front door ${settings.frontDoor})`);
  // Quick runs reap a dead gateway's users sooner than the default 10 s lease, to stay short.
  const env = quick ? { PRESENCE_LEASE_MS: '3000', PRESENCE_HEARTBEAT_MS: '1000' } : {};
  cluster = await startChaosCluster({ gateways: settings.gateways, frontDoor: settings.frontDoor, env });
  const people = await cluster.users(settings.clients + 2, 'chaos');
  const [probeUser, spare, ...loadUsers] = people;
  const load = new ChatLoad({ wsBase: cluster.publicUrl.replace(/^http/, 'ws'), users: loadUsers, rate: settings.rate });
  await load.start();
  const readiness = new ReadinessWatch([
    { name: 'api', url: `${cluster.apiUrl}/readyz` },
    ...cluster.gatewayUrls.map((url, i) => ({ name: `gw-${i}`, url: `${url}/readyz` })),
    { name: 'front door', url: `${cluster.publicUrl}/readyz` },
  ]);
  const presence = new PresenceWatch(cluster.redis.url, cluster.prefix, load);
  const http = new HttpProbe(cluster.publicUrl, probeUser!.token);
  readiness.start();
  presence.start();
  http.start();
  note(`${loadUsers.length} clients chatting at ${settings.rate} msg/s; warming up`);
  await sleep(settings.warmupMs);

  const serving = () => readiness.allReady() && load.clients.every((c) => c.open);
  // Before a fault: also no ghost left from the one before, so each fault's figures are its own.
  const steady = () => serving() && presence.clean();
  const windows: FaultWindow[] = [];
  for (const fault of faults) {
    await waitFor(steady, 60_000).catch(() => note(`not steady before ${fault.name}; injecting anyway`));
    const injectedAt = Date.now();
    note(`${fault.name}: ${fault.title}`);
    const { until } = await fault.run({ cluster, pauseMs: settings.pauseMs, spare: spare!, note: (l) => note(`  ${l}`) });
    const endedAt = Date.now();
    let extra: Record<string, number> = {};
    let extraDone = until === undefined;
    void until?.then((value) => {
      extra = value;
      extraDone = true;
    });
    // Recovered: /readyz answered everywhere since the fault ended (so a dead process shows), all
    // of it ready, every client back in the room, and every send in flight at the fault answered.
    const recovered = () =>
      extraDone &&
      readiness.freshSince(endedAt + 300) &&
      serving() &&
      load.clients.every((c) => c.inFlightSince === undefined || c.inFlightSince >= endedAt);
    const recoveredAt = await waitFor(recovered, settings.recoveryLimitMs).then(
      () => Date.now(),
      () => undefined,
    );
    note(recoveredAt ? `  recovered ${((recoveredAt - endedAt) / 1000).toFixed(1)} s after the fault ended` : '  not recovered within the limit');
    windows.push({ name: fault.name, title: fault.title, injectedAt, endedAt, recoveredAt, closedAt: recoveredAt ?? Date.now(), nextAt: 0, extra });
    await sleep(settings.settleMs);
  }
  await waitFor(steady, 60_000).catch(() => note('not steady at the end of the run'));
  windows.forEach((window, i) => (window.nextAt = windows[i + 1]?.injectedAt ?? Date.now()));

  note('stopping the load and checking what MySQL stored');
  await load.stop();
  readiness.stop();
  presence.stop();
  await http.stop();
  const stored = await storedMessages(cluster.mariadb.databaseUrl('im_chaos'));
  const report = buildReport(
    { load, windows, readiness: readiness.samples, presence: presence.samples, http: http.samples, stored },
    { mode: quick ? 'quick' : 'full', clients: loadUsers.length, rate_per_second: settings.rate, pause_seconds: settings.pauseMs / 1000 },
  );
  mkdirSync(settings.outDir, { recursive: true });
  const stamp = report.generated_at.replace(/[:.]/g, '-');
  const base = resolve(settings.outDir, `chaos-${report.mode}-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, toMarkdown(report));
  process.stdout.write(toMarkdown(report));
  note(`report: ${base}.md and .json`);
  await stopAll();
  process.exit(0);
} catch (err) {
  note(`failed: ${(err as Error).stack ?? err}`);
  if (cluster) note(`cluster output (last lines):\n${cluster.start.output.slice(-30).join('\n')}`);
  await stopAll();
  process.exit(1);
}

/** Every chaos message MySQL stored: client_msg_id → its ids. */
async function storedMessages(url: string): Promise<Map<string, number[]>> {
  const parsed = new URL(url);
  const conn = await createConnection({ host: parsed.hostname, port: Number(parsed.port), user: 'root', database: parsed.pathname.slice(1) });
  try {
    const rows: Array<{ id: bigint; client_msg_id: string }> = await conn.query(
      "SELECT id, client_msg_id FROM chat_messages WHERE client_msg_id LIKE 'chaos-%' ORDER BY id",
    );
    const stored = new Map<string, number[]>();
    for (const row of rows) stored.set(row.client_msg_id, [...(stored.get(row.client_msg_id) ?? []), Number(row.id)]);
    return stored;
  } finally {
    await conn.end();
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(100);
  }
}

function parseArgs(argv: string[]) {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${HELP}\n`);
      process.exit(0);
    }
    if (!arg.startsWith('--')) fail(`unexpected argument ${arg}\n${HELP}`);
    const name = arg.slice(2);
    if (name === 'quick') flags.add(name);
    else if (argv[i + 1] === undefined) fail(`--${name} needs a value`);
    else values.set(name, argv[++i]!);
  }
  return {
    flags,
    values,
    number(name: string, fallback: number): number {
      const raw = values.get(name);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!(value > 0)) fail(`--${name} must be a positive number, got ${raw}`);
      return value;
    },
  };
}

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}
