/**
 * What an `/api/chat` socket keeps on the gateway's heap: one in-process gateway (real MariaDB, the
 * memory broker), N users each on one socket resuming their rooms (of 50) and private chats, the
 * clients in a process of their own. Prints the gateway process's heap after a full collection,
 * per socket, against the same process before the sockets opened.
 *
 *   node --expose-gc --import tsx bench/probes/socket-heap.ts [users=1000] [private=10] [rooms=10]
 *   SNAPSHOT=/tmp/gw.heapsnapshot node --expose-gc --import tsx bench/probes/socket-heap.ts
 *
 * Why it exists: the inbox bench's RSS per socket moves by ±5 KiB between runs of the same code
 * (V8's young generation, what V8 and malloc keep), too much to tell a change of a few hundred
 * bytes per conversation. This figure is exact; a snapshot (SNAPSHOT=path) says which objects.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { WebSocket } from 'ws';
import { createSqlRunner, insertRoom } from '@im/db';
import { privateConversation, roomConversation } from '@im/protocol';
import { startInProcessCluster } from '../../apps/gateway/test/support/in-process-gateways.ts';

const ROOM_SIZE = 50;

interface SocketPlan {
  token: string;
  conversations: Record<string, number>;
}

if (process.argv[2] === 'clients') await runClients(process.argv[3]!);
else await probe();

async function probe(): Promise<void> {
  const option = (at: number, fallback: number) => Number(process.argv[at] ?? fallback);
  const [users, privatePerUser, roomsPerUser] = [option(2, 1_000), option(3, 10), option(4, 10)];
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const cluster = await startInProcessCluster({ gateways: 1 });
  try {
    const people = [];
    for (let i = 0; i < users; i += 1) people.push(await cluster.newUser('h'));
    const plans: SocketPlan[] = people.map(() => ({ token: '', conversations: {} }));
    // Private chats with the nearest users on either side; rooms of ROOM_SIZE spread over everyone.
    for (let i = 0; i < users; i += 1) {
      plans[i]!.token = people[i]!.token;
      for (let d = 1; d <= privatePerUser / 2; d += 1) {
        for (const j of [(i + d) % users, (i - d + users) % users]) plans[i]!.conversations[privateConversation(people[i]!.userId, people[j]!.userId)] = 0;
      }
    }
    const rooms = Math.ceil((users * roomsPerUser) / ROOM_SIZE);
    if (roomsPerUser > 0) {
      const members: string[][] = Array.from({ length: rooms }, () => []);
      for (let i = 0; i < users; i += 1) {
        for (let k = 0; k < roomsPerUser; k += 1) members[(i * 7 + k * Math.floor(rooms / roomsPerUser)) % rooms]!.push(people[i]!.userId);
      }
      const sql = createSqlRunner({ url: cluster.database.url, connectionLimit: 2 });
      for (const [r, ids] of members.entries()) {
        const unique = [...new Set(ids)];
        if (unique.length === 0) continue;
        const roomId = r.toString(16).padStart(12, '0');
        await insertRoom(sql, { roomId, name: `r${r}`, ownerId: unique[0]!, memberIds: unique.slice(1), at: new Date() });
        for (const id of unique) plans[people.findIndex((p) => p.userId === id)]!.conversations[roomConversation(roomId)] = 0;
      }
      await sql.close();
    }
    const planFile = join(tmpdir(), `socket-heap-${process.pid}.json`);
    writeFileSync(planFile, JSON.stringify({ url: cluster.gateways[0]!.url, plans }));
    people.length = 0;
    plans.length = 0;
    fullGc(gc);
    const before = process.memoryUsage().heapUsed;
    const clients = fork(new URL(import.meta.url).pathname, ['clients', planFile], { execArgv: process.execArgv });
    await new Promise((resolve, reject) => {
      clients.once('message', resolve);
      clients.once('exit', (code) => reject(new Error(`clients exited with ${code}`)));
    });
    // Idle feeds, hold timers and catch-ups settle.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    fullGc(gc);
    const perSocket = (process.memoryUsage().heapUsed - before) / users / 1024;
    console.log(`${users} sockets, ${privatePerUser} private chats and ${roomsPerUser} rooms of ${ROOM_SIZE} each: ${perSocket.toFixed(1)} KiB of gateway heap per socket`);
    if (process.env.SNAPSHOT) console.log(`heap snapshot: ${v8.writeHeapSnapshot(process.env.SNAPSHOT)}`);
    clients.kill();
  } finally {
    await cluster.close();
  }
}

function fullGc(gc: () => void): void {
  for (let i = 0; i < 4; i += 1) gc();
}

/** The sockets, in a process of their own so the gateway's heap holds the server's side only. */
async function runClients(planFile: string): Promise<void> {
  const { url, plans } = JSON.parse(readFileSync(planFile, 'utf8')) as { url: string; plans: SocketPlan[] };
  const open: WebSocket[] = [];
  for (const { token, conversations } of plans) {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/chat?Authorization=${encodeURIComponent(`bearer ${token}`)}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
      ws.once('open', () => ws.send(JSON.stringify({ msg_type: 10, conversations })));
      // The caught-up notice of the resume.
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { msg_type?: number; code?: number; conversation?: string };
        if (frame.msg_type === 1 && frame.code === 0 && frame.conversation === undefined) resolve();
      });
    });
    open.push(ws);
  }
  process.send!('ready');
  process.on('disconnect', () => process.exit(0));
}
