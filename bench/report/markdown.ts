import type { MedianStep, ScenarioReport } from './aggregate.ts';

const fmt = (v: unknown): string => {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '—';
  return String(v);
};

/** Markdown for one scenario: headline figures (ours, baseline, ratio) and the per-step table. */
export function scenarioMarkdown(report: ScenarioReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`## ${report.scenario}${report.quick ? ' (quick)' : ''}`);
  lines.push('');
  lines.push(
    `Medians of ${report.runs} run${report.runs === 1 ? '' : 's'}${m.code ? ` of ${m.code}` : ''} on ${fmt(m.cores)} × ${fmt(m.cpuModel)}, ${fmt(m.memoryGiB)} GiB, Node ${fmt(m.node)}; ` +
      `generator, cluster, Redis and MariaDB on the same machine (load average at start ${fmt((m.loadAverageAtStart as number[] | undefined)?.join(' / '))}). ` +
      'Latency in ms from each message\'s (or request\'s) intended send time; "done/s" is deliveries, requests or logins completed per second.',
  );
  lines.push('');

  const parameters = Object.entries(report.parameters)
    .filter(([, v]) => v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v)))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  if (parameters.length > 0) lines.push(`Parameters: ${parameters.join(', ')}.`, '');

  const ours = report.targets.find((t) => t.target === 'ours');
  const baseline = report.targets.find((t) => t.target === 'baseline');
  const keys = [...new Set(report.targets.flatMap((t) => Object.keys(t.summary)))];
  if (keys.length > 0) {
    lines.push(baseline ? '| figure | ours | baseline (Socket.IO 4) | ours / baseline |' : '| figure | ours |');
    lines.push(baseline ? '| --- | --- | --- | --- |' : '| --- | --- |');
    for (const key of keys) {
      const a = ours?.summary[key];
      if (!baseline) {
        lines.push(`| ${key} | ${fmt(a)} |`);
        continue;
      }
      const b = baseline.summary[key];
      const ratio = typeof a === 'number' && typeof b === 'number' && b !== 0 ? fmt(Math.round((a / b) * 100) / 100) : '—';
      lines.push(`| ${key} | ${fmt(a)} | ${fmt(b)} | ${ratio} |`);
    }
    lines.push('');
  }

  const hasDeliveries = report.targets.some((t) => t.steps.some((s) => Number.isFinite(s.serverCpuPerDeliveryUs)));
  const head = ['target', 'step', 'done/s', 'p50', 'p99', 'p99.9', 'max', 'p99 per run', 'lost', 'errors'];
  if (hasDeliveries) head.push('server CPU µs/delivery', 'app CPU µs/delivery', 'generator CPU µs/delivery');
  head.push('machine busy %', 'generator');
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`| ${head.map(() => '---').join(' | ')} |`);
  for (const target of report.targets) {
    for (const step of target.steps) lines.push(stepRow(target.target, step, hasDeliveries));
  }
  lines.push('');
  if (baseline && ours) {
    const ratios = ours.steps
      .map((s) => {
        const b = baseline.steps.find((x) => x.index === s.index);
        if (!b || !Number.isFinite(s.serverCpuPerDeliveryUs) || !Number.isFinite(b.serverCpuPerDeliveryUs)) return undefined;
        return `${s.label}: ${Math.round((s.serverCpuPerDeliveryUs / b.serverCpuPerDeliveryUs) * 100) / 100}×`;
      })
      .filter(Boolean);
    if (ratios.length) lines.push(`Server CPU per delivery, ours / baseline, per step: ${ratios.join(', ')}.`, '');
  }
  if (report.targets.some((t) => t.steps.some((s) => s.saturatedRuns > 0))) {
    lines.push('`*` in "p99 per run": the generator was saturated in that run (not the server\'s figure).', '');
  }
  if (report.notes.length > 0) {
    lines.push('Notes:');
    for (const note of report.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  lines.push(`Files: ${report.files.map((f) => `\`${f}\``).join(', ')}`);
  lines.push('');
  return lines.join('\n');
}

function stepRow(target: string, s: MedianStep, hasDeliveries: boolean): string {
  const saturated =
    s.saturatedRuns === 0
      ? 'ok'
      : s.saturatedRuns === s.runs
        ? `**saturated** (${s.saturatedRuns}/${s.runs} runs)`
        : `saturated in ${s.saturatedRuns}/${s.runs} runs (median of the other ${s.medianOfRuns})`;
  const perRun = s.p99Runs.map((v, i) => `${fmt(v)}${s.p99RunSaturated[i] ? '*' : ''}`).join(' / ');
  const cells = [target, s.label, fmt(s.deliveredRate), fmt(s.p50), fmt(s.p99), fmt(s.p999), fmt(s.max), perRun, fmt(s.lost), fmt(s.errors)];
  if (hasDeliveries) cells.push(fmt(s.serverCpuPerDeliveryUs), fmt(s.appCpuPerDeliveryUs), fmt(s.generatorCpuPerDeliveryUs));
  cells.push(fmt(s.machineBusyPercent), saturated);
  return `| ${cells.join(' | ')} |`;
}
