import { createConnection } from 'mariadb';
import { WebSocket } from 'ws';
import { poolConfigFromUrl } from '@im/db';
import { LatencyHistogram } from '../metrics/histogram.ts';
import { startUsageWindow } from '../metrics/proc-stats.ts';
import { countInto } from '../metrics/counter.ts';
import { openLoop } from '../loadgen/open-loop.ts';
import type { StepResult } from '../report/types.ts';
import { chatUrl, createUsers, type BenchUser } from '../users.ts';
import { backingProcesses, numberOption, openCluster, type Scenario } from './context.ts';
import { requestStep } from './http-step.ts';

const PAIRS = 100;

/**
 * 1,000,000 stored messages (60% in the group, 40% over 100 private pairs, interleaved as real
 * traffic would be), bulk-inserted; then each history query at a fixed open-loop rate: the
 * group and private lists (latest page, before_id and after_id cursors, a page-50 offset) and a
 * WebSocket catch-up with last_id 50 messages back (time until the welcome, which follows the
 * catch-up).
 */
export const history: Scenario = {
  name: 'history',
  chart: 'steps',
  about: '1,000,000 stored messages: p99 of group/private list pages (latest, cursors, offset) and of a last_id catch-up',
  async run(ctx) {
    const messages = numberOption(ctx, 'messages', ctx.quick ? 20_000 : 1_000_000);
    const rate = numberOption(ctx, 'rate', ctx.quick ? 20 : 50);
    const stepSeconds = numberOption(ctx, 'step-seconds', ctx.quick ? 1.5 : 8);
    const cluster = await openCluster(ctx, { gateways: 1 });
    const epoch = process.hrtime.bigint();
    const nowMs = () => Number(process.hrtime.bigint() - epoch) / 1e6;
    const steps: StepResult[] = [];
    try {
      const users = await createUsers(cluster.databaseUrl, cluster.config, PAIRS * 2);
      const seedStart = Date.now();
      const seeded = await seedMessages(cluster.databaseUrl, users, messages);
      const seedSeconds = (Date.now() - seedStart) / 1000;
      ctx.log(`  ours: stored ${messages} messages in ${seedSeconds.toFixed(1)} s (max id ${seeded.maxId})`);
      const me = users[0]!;
      const peer = users[1]!;
      const random = (max: number) => 1 + Math.floor(Math.random() * max);
      const api = cluster.apiUrl;
      const queries: Array<{ label: string; path: () => string }> = [
        { label: 'group latest page', path: () => `/api/chat_groupList?limit=20` },
        { label: 'group before_id', path: () => `/api/chat_groupList?limit=20&before_id=${random(seeded.maxId)}` },
        { label: 'group after_id', path: () => `/api/chat_groupList?limit=20&after_id=${random(seeded.maxId)}` },
        { label: 'group page 50', path: () => `/api/chat_groupList?limit=20&page=50` },
        { label: 'private latest page', path: () => `/api/chat_privateList?target_id=${peer.userId}&limit=20` },
        { label: 'private before_id', path: () => `/api/chat_privateList?target_id=${peer.userId}&limit=20&before_id=${random(seeded.maxId)}` },
        { label: 'private after_id', path: () => `/api/chat_privateList?target_id=${peer.userId}&limit=20&after_id=${random(seeded.maxId)}` },
        { label: 'private page 50', path: () => `/api/chat_privateList?target_id=${peer.userId}&limit=20&page=50` },
      ];
      const watched = () => [...cluster.processes(), ...backingProcesses()];
      let index = 0;
      for (const query of queries) {
        const latency = new LatencyHistogram();
        const statuses: Record<string, number> = {};
        let completed = 0;
        const window = startUsageWindow(watched());
        const loop = await openLoop({
          rate,
          durationMs: stepSeconds * 1000,
          nowMs,
          fire: async (_k, due) => {
            const response = await fetch(api + query.path(), { headers: { authorization: `bearer ${me.token}` } });
            const body = (await response.json().catch(() => undefined)) as { code?: number; data?: { list?: unknown[] } } | undefined;
            latency.recordMs(nowMs() - due);
            countInto(statuses, body?.code ?? `http${response.status}`);
            if (body?.code === 0 && Array.isArray(body.data?.list)) completed += 1;
          },
        });
        const usage = window.finish();
        await loop.settled;
        steps.push(requestStep({ index: index++, label: query.label, rate, durationSeconds: stepSeconds, started: loop.started, completed, failed: loop.started - completed, latency, sendLag: loop.sendLag, self: loop.self, window: usage, extra: { codes: statuses } }));
        ctx.log(`  ours: ${query.label}: p99 ${latency.summary().p99} ms`);
      }

      // Catch-up: connect with last_id 50 group messages back; the welcome comes once they are sent.
      const catchUpRate = Math.max(1, Math.round(rate / 2));
      const latency = new LatencyHistogram();
      const outcomes: Record<string, number> = {};
      let completed = 0;
      const window = startUsageWindow(watched());
      const loop = await openLoop({
        rate: catchUpRate,
        durationMs: stepSeconds * 1000,
        nowMs,
        fire: async (_k, due) => {
          const got = await catchUp(chatUrl(cluster.gatewayUrls[0]!, me), seeded.groupIdFiftyBack);
          latency.recordMs(nowMs() - due);
          countInto(outcomes, got === 50 ? 'ok' : `got ${got}`);
          if (got === 50) completed += 1;
        },
      });
      const usage = window.finish();
      await loop.settled;
      steps.push(requestStep({ index: index++, label: 'catch-up last_id (50 behind)', rate: catchUpRate, durationSeconds: stepSeconds, started: loop.started, completed, failed: loop.started - completed, latency, sendLag: loop.sendLag, self: loop.self, window: usage, extra: { outcomes } }));
      ctx.log(`  ours: catch-up: p99 ${latency.summary().p99} ms`);

      const worst = (match: (s: StepResult) => boolean) => {
        const list = steps.filter(match);
        return list.length ? Math.max(...list.map((s) => s.latency.p99)) : null;
      };
      const label = (s: StepResult) => String(s.extra?.label);
      return {
        parameters: { messages, rate, stepSeconds, pairs: PAIRS, seedSeconds, limit: 20 },
        targets: [
          {
            target: 'ours',
            clients: 0,
            steps,
            summary: {
              groupListP99WorstMs: worst((s) => label(s).startsWith('group')),
              privateListP99WorstMs: worst((s) => label(s).startsWith('private')),
              catchUpP99Ms: worst((s) => label(s).startsWith('catch-up')),
              failures: steps.reduce((a, s) => a + s.errors, 0),
              storedMessages: messages,
            },
            peakRssKiB: Object.fromEntries(steps.at(-1)?.processes.filter((p) => p.role === 'server').map((p) => [p.name, p.peakRssKiB]) ?? []),
          },
        ],
        notes: [],
      };
    } finally {
      await cluster.stop();
    }
  },
};

/** Opens a group socket with last_id; resolves with how many chat frames came before the welcome. */
function catchUp(url: string, lastId: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    u.searchParams.set('last_id', String(lastId));
    const ws = new WebSocket(u, { perMessageDeflate: false });
    let frames = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no welcome within 10 s'));
    }, 10_000);
    ws.on('message', (data: Buffer) => {
      if (data.subarray(0, 14).toString() === '{"msg_type":1,') {
        clearTimeout(timer);
        ws.terminate();
        resolve(frames);
      } else if (data.subarray(0, 6).toString() === '{"id":') frames += 1;
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Bulk-inserts `count` messages: every 5 rows, 3 to the group and 2 to one of the pairs (users
 * 2p and 2p+1, the pairs in turn), with gapless seqs per conversation and `conversations.last_seq`
 * to match.
 */
async function seedMessages(databaseUrl: string, users: BenchUser[], count: number): Promise<{ maxId: number; groupIdFiftyBack: number }> {
  const conn = await createConnection({ ...poolConfigFromUrl(databaseUrl), multipleStatements: false });
  try {
    await conn.query('SET unique_checks = 0');
    const seqs = new Map<string, number>();
    const pairKey = (p: number) => {
      const a = users[2 * p]!.userId;
      const b = users[2 * p + 1]!.userId;
      return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
    };
    const base = Date.now() - count * 10;
    const BATCH = 5_000;
    for (let at = 0; at < count; at += BATCH) {
      const rows: string[] = [];
      for (let n = at; n < Math.min(count, at + BATCH); n++) {
        let conversation: string;
        let sender: string;
        let target: string;
        if (n % 5 < 3) {
          conversation = 'group';
          sender = users[n % users.length]!.userId;
          target = 'NULL';
        } else {
          // Pairs take turns, so every pair (the measured one, users 0 and 1, too) has count × 0.4 / PAIRS.
          const p = Math.floor(n / 5) % PAIRS;
          conversation = pairKey(p);
          const side = n & 1;
          sender = users[2 * p + side]!.userId;
          target = `'${users[2 * p + (1 - side)]!.userId}'`;
        }
        const seq = (seqs.get(conversation) ?? 0) + 1;
        seqs.set(conversation, seq);
        const created = new Date(base + n * 10).toISOString().replace('T', ' ').replace('Z', '');
        rows.push(`(${seq}, '${conversation}', '${sender}', ${target}, 4, 'history message ${n} with some ordinary chat text in it', 1, '${created}')`);
      }
      await conn.query(`INSERT INTO chat_messages (seq, conversation, sender_id, target_id, msg_type, content, online_count, created_at) VALUES ${rows.join(',')}`);
    }
    const values = [...seqs].map(([conversation, seq]) => `('${conversation}', ${seq})`).join(',');
    await conn.query(`INSERT INTO conversations (conversation, last_seq) VALUES ${values} ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq)`);
    const [max] = await conn.query('SELECT MAX(id) AS id FROM chat_messages');
    const [back] = await conn.query(`SELECT id FROM chat_messages WHERE conversation = 'group' ORDER BY id DESC LIMIT 1 OFFSET 50`);
    return { maxId: Number(max.id), groupIdFiftyBack: Number(back?.id ?? 0) };
  } finally {
    await conn.end();
  }
}
