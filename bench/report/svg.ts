import type { ScenarioReport } from './aggregate.ts';

const WIDTH = 820;
const SERIES = [
  { key: 'p50', label: 'p50', color: '#2b8cbe' },
  { key: 'p99', label: 'p99', color: '#e6550d' },
  { key: 'p999', label: 'p99.9', color: '#756bb1' },
] as const;

/**
 * Latency percentiles (log scale) against the delivered rate, ours solid and the baseline dashed.
 * Steps where the generator was saturated in every run are drawn as hollow points: they show the generator's
 * limit, not the server's.
 */
export function scenarioSvg(report: ScenarioReport, xLabel = 'delivered per second (median of runs)', byStep = false): string {
  // byStep: one column per step (history's queries), not a rate axis.
  const xOf = (s: { deliveredRate: number; index: number }) => (byStep ? s.index + 1 : s.deliveredRate);
  // Step names are written slanted under the axis: they need more room there.
  const MARGIN = { left: 70, right: 190, top: 50, bottom: byStep ? 130 : 60 };
  const HEIGHT = byStep ? 550 : 480;
  const points = report.targets.flatMap((t) => t.steps.flatMap((s) => SERIES.map((k) => ({ x: xOf(s), y: s[k.key] }))));
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xMax = byStep ? Math.max(1, ...finite.map((p) => p.x)) + 1 : niceCeil(Math.max(1, ...finite.map((p) => p.x)) * 1.05);
  const yMinRaw = Math.min(...finite.map((p) => p.y), 1);
  const yMaxRaw = Math.max(...finite.map((p) => p.y), 10);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(yMinRaw, 0.01)));
  const yMax = 10 ** Math.ceil(Math.log10(yMaxRaw));
  const sx = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${esc(report.scenario)}: latency ${byStep ? 'by step' : 'vs delivered rate'}${report.quick ? ' (quick)' : ''}</text>`,
    `<text x="${MARGIN.left}" y="38" fill="#555">median of ${report.runs} run(s), ${esc(String(report.machine.cores))} cores, generator on the same machine; hollow: generator saturated in every run</text>`,
  );
  // Grid and axes.
  for (let e = Math.log10(yMin); e <= Math.log10(yMax) + 1e-9; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v > yMax * 1.0001) continue;
      const y = sy(v);
      out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      if (m === 1 || plotH > 300) out.push(`<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${fmtNum(v)}</text>`);
    }
  }
  if (byStep) {
    const labels = report.targets[0]?.steps ?? [];
    for (const s of labels) {
      const x = sx(s.index + 1);
      out.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
      out.push(`<text x="${x}" y="${MARGIN.top + plotH + 14}" text-anchor="end" font-size="10" transform="rotate(-30 ${x} ${MARGIN.top + plotH + 14})">${esc(s.label)}</text>`);
    }
  } else {
    for (let i = 0; i <= 5; i++) {
      const v = (xMax / 5) * i;
      const x = sx(v);
      out.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
      out.push(`<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${fmtNum(v)}</text>`);
    }
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (!byStep) out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 18}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`);

  // Series.
  const legend: string[] = [];
  let ly = MARGIN.top + 10;
  for (const target of report.targets) {
    const dash = target.target === 'baseline' ? ' stroke-dasharray="6 4"' : '';
    const seriesNames = [...new Set(target.steps.map((s) => s.series))];
    for (const name of seriesNames) {
      for (const series of SERIES) {
        const pts = target.steps
          .filter((s) => s.series === name && Number.isFinite(xOf(s)) && Number.isFinite(s[series.key]) && s[series.key] > 0)
          .sort((a, b) => xOf(a) - xOf(b));
        if (pts.length === 0) continue;
        const path = pts.map((s, i) => `${i ? 'L' : 'M'}${sx(xOf(s)).toFixed(1)},${sy(s[series.key]).toFixed(1)}`).join(' ');
        // A second kind of step (registrations beside logins) is drawn thinner.
        const width = name === seriesNames[0] ? 2 : 1;
        // By step the columns are different things: points only, no line between them.
        if (!byStep) out.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="${width}"${dash}/>`);
        for (const s of pts) {
          const fill = s.saturatedRuns === s.runs ? 'white' : series.color;
          const cx = sx(xOf(s));
          const cy = sy(s[series.key]);
          const title = `<title>${esc(target.target)} ${esc(s.label)} ${series.label}: ${s[series.key]} ms at ${s.deliveredRate}/s</title>`;
          // Ours: circles; the baseline: squares.
          out.push(
            target.target === 'baseline'
              ? `<rect x="${(cx - 4).toFixed(1)}" y="${(cy - 4).toFixed(1)}" width="8" height="8" fill="${fill}" stroke="${series.color}" stroke-width="1.5">${title}</rect>`
              : `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${width === 2 ? 4 : 3}" fill="${fill}" stroke="${series.color}" stroke-width="1.5">${title}</circle>`,
          );
        }
        const who = `${target.target === 'baseline' ? 'Socket.IO' : 'ours'}${name ? ` ${name}` : ''}`;
        legend.push(
          `<line x1="${WIDTH - MARGIN.right + 15}" x2="${WIDTH - MARGIN.right + 45}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="${width}"${dash}/>`,
          `<text x="${WIDTH - MARGIN.right + 52}" y="${ly + 4}">${esc(who)} ${series.label}</text>`,
        );
        ly += 20;
      }
    }
  }
  out.push(...legend);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

function fmtNum(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(2));
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
