// `npm run bench -- <scenario…> [--runs 3] [--quick] [--url URL] [--workers N] [--no-baseline]
//                   [--set key=value …] [--out DIR] [--report] [--profile DIR]`
// Runs each scenario `runs` times (each run on a fresh cluster unless --url), writes one JSON per
// run, then the medians as markdown (printed and bench/results/latest.md) and an SVG chart per
// scenario. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '@im/config';
import { aggregate, type ScenarioReport } from './report/aggregate.ts';
import { scenarioMarkdown } from './report/markdown.ts';
import { scenarioSvg } from './report/svg.ts';
import type { RunResult } from './report/types.ts';
import { writeRunJson, writeText } from './report/write.ts';
import { stopEverything } from './cluster.ts';
import { machineInfo, type ScenarioContext } from './scenarios/context.ts';
import { scenarios } from './scenarios/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    url: { type: 'string' },
    workers: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    report: { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || positionals.length === 0) {
  process.stdout.write(
    [
      'usage: npm run bench -- <scenario…|all> [--runs 3] [--quick] [--url URL] [--workers N] [--no-baseline] [--set key=value] [--out DIR]',
      '',
      'scenarios:',
      ...scenarios.map((s) => `  ${s.name.padEnd(16)} ${s.about}`),
      '',
      '  --runs N        runs per scenario; the report shows medians (default 3)',
      '  --quick         seconds-long versions with tiny client counts (smoke test)',
      '  --url URL       target a running cluster (front door or API URL) instead of starting one',
      '  --workers N     generator processes (default per scenario)',
      '  --no-baseline   skip the Socket.IO baseline',
      '  --set k=v       scenario parameters, e.g. --set clients=2000 --set rates=50,100',
      '  --out DIR       where results go (default bench/results)',
      '  --report        run nothing: rebuild latest.md and the charts from the newest --runs JSON files of each scenario',
      '  --profile DIR   write V8 CPU profiles (.cpuprofile) of the API, gateway and worker processes into DIR/<process>/',
      '',
    ].join('\n'),
  );
  process.exit(positionals.length === 0 && !values.help ? 1 : 0);
}

const names = positionals.includes('all') ? scenarios.map((s) => s.name) : positionals;
const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}\n`);
  process.exit(1);
}
const runs = Number(values.runs ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('bench: --runs must be a positive integer\n');
  process.exit(1);
}
const workers = values.workers === undefined ? undefined : Number(values.workers);
const options: Record<string, string> = {};
for (const pair of values.set ?? []) {
  const at = pair.indexOf('=');
  if (at < 1) {
    process.stderr.write(`bench: --set ${pair}: expected key=value\n`);
    process.exit(1);
  }
  options[pair.slice(0, at)] = pair.slice(at + 1);
}
const outDir = resolve(projectRoot, values.out ?? 'bench/results');
// Read by startProcess in cluster.ts when it starts the cluster's processes.
if (values.profile) process.env.BENCH_PROFILE_DIR = resolve(values.profile);
const log = (line: string) => process.stderr.write(`${line}\n`);

// Ctrl-C or SIGTERM: stop the clusters and baselines, drop their databases and keys, then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}: stopping what was started`);
    void stopEverything().finally(() => process.exit(130));
  });
}

const reports: ScenarioReport[] = [];
let failed = false;
for (const name of names) {
  const scenario = scenarios.find((s) => s.name === name)!;
  const results: RunResult[] = [];
  const files: string[] = [];
  if (values.report) {
    // The newest `runs` results of this scenario (quick ones with --quick only), from earlier invocations.
    const found = (existsSync(outDir) ? readdirSync(outDir) : [])
      .filter((f) => new RegExp(`^\\d{4}-.*-${name}-run\\d+\\.json$`).test(f))
      .sort()
      .map((f) => ({ f, result: JSON.parse(readFileSync(join(outDir, f), 'utf8'), (_key, value) => (value === null ? NaN : value)) as RunResult }))
      .filter(({ result }) => result.quick === (values.quick ?? false))
      .slice(-runs);
    for (const { f, result } of found) {
      // Headlines from the stored steps with today's rules; scenario-specific extras are kept.
      if (scenario.summarize) for (const t of result.targets) t.summary = { ...t.summary, ...scenario.summarize(t.steps, result.parameters) };
      results.push(result);
      files.push(relative(projectRoot, join(outDir, f)));
    }
    if (found.length === 0) log(`bench: no results of ${name} in ${outDir}`);
  }
  for (let run = 1; run <= (values.report ? 0 : runs); run++) {
    log(`bench: ${name} run ${run}/${runs}${values.quick ? ' (quick)' : ''}`);
    const ctx: ScenarioContext = { quick: values.quick ?? false, run, url: values.url, workers, noBaseline: values['no-baseline'] ?? false, options, log };
    const startedAt = new Date().toISOString();
    const machine = { ...machineInfo(), code: codeVersion() };
    try {
      const outcome = await scenario.run(ctx);
      const result: RunResult = {
        scenario: name,
        run,
        quick: ctx.quick,
        startedAt,
        finishedAt: new Date().toISOString(),
        machine,
        parameters: { ...outcome.parameters, url: values.url ?? null },
        targets: outcome.targets,
        notes: outcome.notes,
      };
      results.push(result);
      files.push(writeRunJson(outDir, result));
      log(`bench: ${name} run ${run} written to ${files.at(-1)}`);
    } catch (err) {
      failed = true;
      log(`bench: ${name} run ${run} failed: ${(err as Error).stack ?? err}`);
    }
  }
  if (results.length === 0) continue;
  const report = aggregate(results, files);
  // A chart wherever there is a latency (connections holds idle sockets: none).
  if (scenario.chart !== false && report.targets.some((t) => t.steps.some((s) => Number.isFinite(s.p99)))) {
    const xLabel = name === 'login' ? 'completed per second (median of runs)' : undefined;
    report.files.push(writeText(outDir, `${name}.svg`, scenarioSvg(report, xLabel, scenario.chart === 'steps')));
  }
  reports.push(report);
}

if (reports.length > 0) {
  const markdown = [`# Benchmark results (${new Date().toISOString()})`, '', ...reports.map(scenarioMarkdown)].join('\n');
  const file = writeText(outDir, 'latest.md', markdown);
  process.stdout.write(markdown + '\n');
  log(`bench: report written to ${file}`);
}
process.exit(failed ? 1 : 0);

/** The commit measured, and whether apps/ or packages/ had uncommitted changes then. */
function codeVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'apps', 'packages', 'prisma', 'config') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in apps/packages' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
