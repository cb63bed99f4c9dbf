/** A process's Prometheus text from `url` (its /metrics), or '' when it cannot be read in 5 s. */
export async function fetchMetrics(url: string): Promise<string> {
  return fetch(url, { signal: AbortSignal.timeout(5_000) })
    .then((r) => r.text())
    .catch(() => '');
}

/**
 * The value of the first sample `name{labels} value` whose labels include `label` (the gateway's
 * default label comes with every sample, in any order); NaN when there is none.
 */
export function metricValue(metrics: string, name: string, label = ''): number {
  const line = metrics.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}
