// The chaos tool end to end at its smallest: `npm run chaos -- --quick` with two of its faults
// starts the cluster on its own private Redis and MariaDB, chats through the front door, kills a
// gateway and freezes MariaDB, and must leave a report in which nothing acknowledged was lost and
// the freeze was answered with 1500 frames, not silence. No timing is asserted: figures belong to
// the tool's report, not to tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '@im/config';
import type { ChaosReport } from '../../bench/chaos/report.ts';
// Type-only: makes `npm run typecheck` check the whole tool (run.ts imports every part of it).
import type * as _chaos from '../../bench/chaos/run.ts';

test('npm run chaos --quick: a gateway killed and MariaDB frozen under chat, nothing acknowledged lost', { timeout: 240_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'im-chaos-smoke-'));
  try {
    const child = spawn(
      'npm',
      ['run', '--silent', 'chaos', '--', '--quick', '--faults', 'gateway-kill,mysql-freeze', '--clients', '6', '--rate', '6', '--out', out],
      { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, `chaos failed:\n${output.slice(-4000)}`);

    const files = readdirSync(out);
    const json = files.find((f) => /^chaos-quick-.*\.json$/.test(f));
    assert.ok(json && files.includes(json.replace(/\.json$/, '.md')), `a JSON and a markdown report in ${files.join(', ')}`);
    const report = JSON.parse(readFileSync(join(out, json), 'utf8')) as ChaosReport;
    assert.deepEqual(report.faults.map((f) => f.fault), ['gateway-kill', 'mysql-freeze']);
    assert.ok(report.totals.acked > 0, 'messages were acknowledged');
    assert.deepEqual(
      [report.totals.acked_lost, report.totals.duplicates_stored, report.totals.undelivered],
      [0, 0, 0],
      'nothing acknowledged lost, nothing stored twice, everything delivered to everyone',
    );
    const [kill, freeze] = report.faults as [ChaosReport['faults'][number], ChaosReport['faults'][number]];
    assert.ok(kill.reconnects.count > 0 && kill.reconnects.never_back === 0, 'the killed gateway’s clients came back');
    assert.ok(freeze.attempts.error_1500 > 0, 'sends during the freeze were answered with 1500');
    assert.ok(Object.values(freeze.readiness).some((r) => r.changes.some(([, status]) => status === 503)), 'readiness said 503');
    for (const fault of report.faults) assert.equal(typeof fault.recovery_ms, 'number', `${fault.fault} recovered`);

    const markdown = readFileSync(join(out, json.replace(/\.json$/, '.md')), 'utf8');
    assert.match(markdown, /^\| kill -9 of a gateway \| \d+ \| 0 \| 0 \| 0 \|/m);
    assert.match(markdown, /^\| MariaDB frozen \(SIGSTOP\) \| \d+ \| 0 \| 0 \| 0 \|/m);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
