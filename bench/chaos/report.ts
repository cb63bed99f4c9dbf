import type { ChatLoad, SendAttempt } from './chat-load.ts';
import type { HttpSample, PresenceSample, ReadinessSample } from './observers.ts';

/** When one fault happened, as the run recorded it. */
export interface FaultWindow {
  name: string;
  title: string;
  injectedAt: number;
  /** Its cause removed (kill done, engine started again, SIGCONT sent). */
  endedAt: number;
  /** Ready, every client back in the room, every send in flight at the end answered; undefined: not within the limit. */
  recoveredAt?: number;
  /** The window the figures cover: from injection to recovery (or to the limit). */
  closedAt: number;
  /** The next fault's injection (or the run's end): presence is watched until then. */
  nextAt: number;
  extra: Record<string, number>;
}

/** The figures of one fault: what its users saw while it lasted and how long it took to heal. */
export interface FaultFigures {
  fault: string;
  title: string;
  fault_seconds: number;
  /** Messages first sent during the window. */
  messages: number;
  acked_lost: number;
  duplicates_stored: number;
  /** Stored messages of the window that some client never received (not even by catching up). */
  undelivered: number;
  attempts: { ack: number; error_1500: number; error_other: number; silent: number; closed: number };
  /** The longest a message of the window waited from its first send to its acknowledgement. */
  longest_wait_ms: number;
  first_1500_ws_ms?: number;
  first_1500_http_ms?: number;
  http: { ok: number; unavailable: number; other: number; no_answer: number; slowest_ms: number };
  reconnects: { count: number; p99_ms?: number; max_ms?: number; never_back: number };
  ghost_ms: number;
  presence_missing_ms: number;
  /** Per /readyz: how long it was not 200 during the window, and its changes (ms after injection: status). */
  readiness: Record<string, { not_ready_ms: number; changes: Array<[number, number]> }>;
  recovery_ms?: number;
  extra: Record<string, number>;
}

export interface ChaosReport {
  generated_at: string;
  mode: 'quick' | 'full';
  clients: number;
  rate_per_second: number;
  pause_seconds: number;
  faults: FaultFigures[];
  totals: { messages: number; acked: number; acked_lost: number; duplicates_stored: number; undelivered: number; duplicate_deliveries: number };
}

export interface RunRecord {
  load: ChatLoad;
  windows: FaultWindow[];
  readiness: ReadinessSample[];
  presence: PresenceSample[];
  http: HttpSample[];
  /** Every stored chaos message: client_msg_id → ids (more than one would be a duplicate). */
  stored: Map<string, number[]>;
}

export function buildReport(record: RunRecord, meta: Pick<ChaosReport, 'mode' | 'clients' | 'rate_per_second' | 'pause_seconds'>): ChaosReport {
  const { load, stored } = record;
  const firstSent = new Map<string, number>();
  for (const attempt of load.attempts) if (!firstSent.has(attempt.clientMsgId)) firstSent.set(attempt.clientMsgId, attempt.sentAt);
  const storedIds = new Set([...stored.values()].flat());
  const missedBy = (id: number) => load.clients.filter((client) => !client.received.has(id)).length;

  const lostIds = [...load.acked].filter(([, id]) => !storedIds.has(id)).map(([msgId]) => msgId);
  const duplicated = [...stored].filter(([, ids]) => ids.length > 1).map(([msgId]) => msgId);
  const undelivered = [...stored].filter(([, ids]) => ids.some((id) => missedBy(id) > 0)).map(([msgId]) => msgId);

  const faults = record.windows.map((window): FaultFigures => {
    const within = (t: number) => t >= window.injectedAt && t <= window.closedAt;
    const messages = [...firstSent].filter(([, t]) => within(t)).map(([msgId]) => msgId);
    const mine = new Set(messages);
    const attempts = load.attempts.filter((a) => within(a.sentAt));
    const count = (test: (a: SendAttempt) => boolean) => attempts.filter(test).length;
    const acks = new Map(load.attempts.filter((a) => a.outcome === 'ack').map((a) => [a.clientMsgId, a.endedAt]));
    const waits = messages.map((msgId) => (acks.get(msgId) ?? window.closedAt) - firstSent.get(msgId)!);
    const first1500 = load.attempts.find((a) => a.outcome === 'error' && a.code === 1500 && a.endedAt >= window.injectedAt && a.endedAt <= window.closedAt);
    const http = record.http.filter((s) => within(s.startedAt));
    const first1500Http = record.http
      .filter((s) => s.code === 1500 && s.endedAt >= window.injectedAt && s.endedAt <= window.closedAt)
      .sort((a, b) => a.endedAt - b.endedAt)[0];
    const reconnects = load.reconnects.filter((r) => within(r.closedAt));
    const durations = reconnects.filter((r) => r.backAt !== undefined).map((r) => r.backAt! - r.closedAt);
    return {
      fault: window.name,
      title: window.title,
      fault_seconds: round((window.endedAt - window.injectedAt) / 1000, 1),
      messages: messages.length,
      acked_lost: lostIds.filter((id) => mine.has(id)).length,
      duplicates_stored: duplicated.filter((id) => mine.has(id)).length,
      undelivered: undelivered.filter((id) => mine.has(id)).length,
      attempts: {
        ack: count((a) => a.outcome === 'ack'),
        error_1500: count((a) => a.outcome === 'error' && a.code === 1500),
        error_other: count((a) => a.outcome === 'error' && a.code !== 1500),
        silent: count((a) => a.outcome === 'silent'),
        closed: count((a) => a.outcome === 'closed'),
      },
      longest_wait_ms: Math.max(0, ...waits),
      first_1500_ws_ms: first1500 ? first1500.endedAt - window.injectedAt : undefined,
      first_1500_http_ms: first1500Http ? first1500Http.endedAt - window.injectedAt : undefined,
      http: {
        ok: http.filter((s) => s.status === 200).length,
        unavailable: http.filter((s) => s.code === 1500).length,
        other: http.filter((s) => s.status !== 200 && s.status !== 0 && s.code !== 1500).length,
        no_answer: http.filter((s) => s.status === 0).length,
        slowest_ms: Math.max(0, ...http.map((s) => s.endedAt - s.startedAt)),
      },
      reconnects: {
        count: reconnects.length,
        p99_ms: durations.length ? percentile(durations, 0.99) : undefined,
        max_ms: durations.length ? Math.max(...durations) : undefined,
        never_back: reconnects.filter((r) => r.backAt === undefined).length,
      },
      // Until the next fault: a dead gateway's sessions are reaped after their lease, which may
      // be well after chat has recovered.
      ghost_ms: timeWhere(record.presence, { ...window, closedAt: window.nextAt }, (s) => s.ghosts > 0),
      presence_missing_ms: timeWhere(record.presence, { ...window, closedAt: window.nextAt }, (s) => s.missing > 0),
      readiness: readinessOf(record.readiness, window),
      recovery_ms: window.recoveredAt !== undefined ? window.recoveredAt - window.endedAt : undefined,
      extra: window.extra,
    };
  });

  return {
    generated_at: new Date().toISOString(),
    ...meta,
    faults,
    totals: {
      messages: firstSent.size,
      acked: load.acked.size,
      acked_lost: lostIds.length,
      duplicates_stored: duplicated.length,
      undelivered: undelivered.length,
      duplicate_deliveries: load.clients.reduce((sum, client) => sum + client.duplicateDeliveries, 0),
    },
  };
}

/** Milliseconds of the window during which `test` held, from consecutive samples. */
function timeWhere<S extends { at: number }>(samples: S[], window: Pick<FaultWindow, 'injectedAt' | 'closedAt'>, test: (s: S) => boolean): number {
  let total = 0;
  const inside = samples.filter((s) => s.at >= window.injectedAt && s.at <= window.closedAt);
  for (let i = 1; i < inside.length; i += 1) if (test(inside[i - 1]!)) total += inside[i]!.at - inside[i - 1]!.at;
  return total;
}

function readinessOf(samples: ReadinessSample[], window: FaultWindow): FaultFigures['readiness'] {
  const out: FaultFigures['readiness'] = {};
  const names = [...new Set(samples.map((s) => s.name))];
  for (const name of names) {
    const mine = samples.filter((s) => s.name === name);
    const before = mine.filter((s) => s.at < window.injectedAt).at(-1)?.status ?? 200;
    const inside = mine.filter((s) => s.at >= window.injectedAt && s.at <= window.closedAt);
    const changes: Array<[number, number]> = [];
    let last = before;
    for (const sample of inside) {
      if (sample.status !== last) changes.push([sample.at - window.injectedAt, sample.status]);
      last = sample.status;
    }
    out[name] = { not_ready_ms: timeWhere(inside, window, (s) => s.status !== 200), changes };
  }
  return out;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

/**
 * The report as Markdown: one table row per fault (what goes next to the benchmark table in the
 * README), then each fault's readiness timeline.
 */
export function toMarkdown(report: ChaosReport): string {
  const lines = [
    `# Chaos run (${report.mode}), ${report.generated_at}`,
    '',
    `${report.clients} clients in the group room through the front door, ${report.rate_per_second} msg/s in all, each message resent with its ` +
      `client_msg_id until acknowledged; pauses and freezes last ${report.pause_seconds} s. Totals: ${report.totals.messages} messages, ` +
      `${report.totals.acked} acknowledged, ${report.totals.acked_lost} acknowledged and lost, ${report.totals.duplicates_stored} stored twice, ` +
      `${report.totals.undelivered} not delivered to every client, ${report.totals.duplicate_deliveries} delivered twice.`,
    '',
    '| fault | messages | acked lost | stored twice | undelivered | sends: acked / 1500 frame / silent ≥10 s / socket closed | longest wait for an ack | first 1500 (chat / HTTP) | HTTP 200 / 1500 / no answer (slowest) | reconnects: n, p99, max | ghost time | not ready (longest) | recovery |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- | --- | ---: | --- | ---: |',
  ];
  for (const f of report.faults) {
    const worstReady = Object.entries(f.readiness).sort((a, b) => b[1].not_ready_ms - a[1].not_ready_ms)[0];
    lines.push(
      `| ${f.title} | ${f.messages} | ${f.acked_lost} | ${f.duplicates_stored} | ${f.undelivered} | ` +
        `${f.attempts.ack} / ${f.attempts.error_1500} / ${f.attempts.silent} / ${f.attempts.closed} | ${s(f.longest_wait_ms)} | ` +
        `${s(f.first_1500_ws_ms)} / ${s(f.first_1500_http_ms)} | ${f.http.ok} / ${f.http.unavailable} / ${f.http.no_answer} (${s(f.http.slowest_ms)}) | ` +
        `${f.reconnects.count}, ${s(f.reconnects.p99_ms)}, ${s(f.reconnects.max_ms)}${f.reconnects.never_back ? ` (${f.reconnects.never_back} never back)` : ''} | ` +
        `${s(f.ghost_ms)} | ${worstReady && worstReady[1].not_ready_ms > 0 ? `${worstReady[0]} ${s(worstReady[1].not_ready_ms)}` : 'never'} | ` +
        `${f.recovery_ms === undefined ? 'not within the limit' : s(f.recovery_ms)} |`,
    );
  }
  lines.push('', '## Readiness timelines (seconds after the fault: HTTP status of /readyz; 0 = no answer within 3 s)', '');
  for (const f of report.faults) {
    const parts = Object.entries(f.readiness)
      .filter(([, r]) => r.changes.length > 0)
      .map(([name, r]) => `${name}: ${r.changes.map(([at, status]) => `${(at / 1000).toFixed(1)} → ${status}`).join(', ')}`);
    const extra = Object.entries(f.extra).map(([k, v]) => `${k} ${v}`);
    lines.push(`- **${f.title}**: ${parts.length ? parts.join('; ') : 'always ready'}${extra.length ? `; ${extra.join(', ')}` : ''}${f.presence_missing_ms ? `; presence missing users for ${s(f.presence_missing_ms)}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
