// The bench tool end to end at its smallest: `npm run bench -- group-fanout login history --quick
// --runs 1` starts its own clusters (and the Socket.IO baseline), drives real clients, and must
// leave one JSON per run, the markdown report and a chart per scenario, all holding numbers.
// No timing is asserted: figures belong to the bench, not to tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '@im/config';
import type { RunResult } from '../../bench/report/types.ts';
// Type-only: makes `npm run typecheck` check the whole bench (run.ts imports every part of it).
import type * as _bench from '../../bench/run.ts';

const SCENARIOS = ['group-fanout', 'login', 'history', 'inbox'];

test('npm run bench --quick writes JSON, markdown and SVG with figures', { timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'im-bench-smoke-'));
  try {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', ...SCENARIOS, '--quick', '--runs', '1', '--out', out], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, `bench failed:\n${output.slice(-4000)}`);

    const files = readdirSync(out);
    for (const scenario of SCENARIOS) {
      const json = files.filter((f) => f.endsWith(`-${scenario}-run1.json`));
      assert.equal(json.length, 1, `one JSON for ${scenario} in ${files.join(', ')}`);
      const result = JSON.parse(readFileSync(join(out, json[0]!), 'utf8')) as RunResult;
      assert.equal(result.scenario, scenario);
      const ours = result.targets.find((t) => t.target === 'ours');
      assert.ok(ours && ours.steps.length > 0, `${scenario} has steps`);
      for (const step of ours.steps) {
        assert.equal(typeof step.latency.p99, 'number', `${scenario} step ${step.index} has a p99`);
        assert.ok(step.delivered > 0, `${scenario} step ${step.index} completed something`);
        assert.equal(typeof step.serverCpuSeconds, 'number');
        assert.equal(typeof step.generator.saturated, 'boolean');
        assert.ok(step.processes.some((p) => p.role === 'server'), 'server processes measured');
      }
      if (scenario === 'group-fanout') {
        const baseline = result.targets.find((t) => t.target === 'baseline');
        assert.ok(baseline, 'the Socket.IO baseline ran in the same run');
        assert.ok(baseline.steps.every((s) => s.delivered > 0));
      }
      if (scenario === 'inbox') {
        // Part 2 clients: the killed gateway's half came back and resumed; the inbox was queried.
        assert.equal(ours.summary.reconnected, ours.summary.clientsOnKilledGateway);
        assert.equal(typeof ours.summary.inboxP99Ms, 'number');
        assert.equal(typeof ours.summary.redisPublishesPerMessage, 'number');
        // The CPU bar's reference ran in the same run, and the gateways counted their message publishes.
        assert.ok(ours.steps.some((s) => String(s.extra?.label).startsWith('Part 1 group of')), 'the group reference step');
        assert.equal(typeof ours.summary.cpuPerDeliveryVsGroup, 'number');
        assert.ok(Number(ours.summary.messagePublishesPerMessage) >= 1, `message publishes counted: ${ours.summary.messagePublishesPerMessage}`);
      }

      const svg = readFileSync(join(out, `${scenario}.svg`), 'utf8');
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<circle cx="\d/);
    }

    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const scenario of SCENARIOS) assert.match(markdown, new RegExp(`^## ${scenario}`, 'm'));
    // A table row of ours with a numeric p99 (fifth column).
    assert.match(markdown, /^\| ours \| [^|]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/m);
    assert.match(markdown, /\| figure \| ours \| baseline \(Socket\.IO 4\) \| ours \/ baseline \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
