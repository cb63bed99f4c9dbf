import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '@im/config';
import { createApiMetrics } from '../../apps/api/src/observability/metrics.ts';
import { createMetrics as createGatewayMetrics } from '../../apps/gateway/src/http/metrics.ts';
import { createWorkerMetrics } from '../../apps/worker/src/metrics.ts';

/** Every series name the processes export, histograms with their _bucket, _sum and _count. */
async function exportedNames(): Promise<Set<string>> {
  const registries = [
    createApiMetrics().registry,
    createGatewayMetrics('dashboard-test').registry,
    createWorkerMetrics({ jobCounts: async () => ({ waiting: 0, active: 0, delayed: 0, failed: 0 }) }).registry,
  ];
  const names = new Set<string>();
  for (const registry of registries) {
    // From the TYPE lines: a labelled series has no sample until it is first used.
    for (const [, name, type] of (await registry.metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
    }
  }
  return names;
}

describe('Grafana dashboard deploy/grafana/im-cluster.json', () => {
  const dashboard = JSON.parse(readFileSync(resolve(projectRoot, 'deploy/grafana/im-cluster.json'), 'utf8'));
  const panels = dashboard.panels.filter((panel: { type: string }) => panel.type !== 'row');
  const exprs: string[] = panels.flatMap((panel: { targets: Array<{ expr: string }> }) => panel.targets.map((t) => t.expr));

  it('charts only series the API, the gateways and the mail worker export', async () => {
    const exported = await exportedNames();
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\b((?:im|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    assert.ok(used.size >= 15, `${used.size} series used`);
    assert.deepEqual([...used].filter((name) => !exported.has(name)), []);
  });

  it('uses the jobs of the Prometheus example, and a data source variable so it imports anywhere', () => {
    const prometheus = parse(readFileSync(resolve(projectRoot, 'deploy/prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string }> };
    const jobs = prometheus.scrape_configs.map((job) => job.job_name);
    for (const [, job] of exprs.join('\n').matchAll(/job="([^"]+)"/g)) assert.ok(jobs.includes(job!), job);
    assert.equal(dashboard.templating.list[0].type, 'datasource');
    for (const panel of panels) assert.equal(panel.datasource.uid, '${datasource}', panel.title);
  });
});
