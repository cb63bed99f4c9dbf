import { randomBytes } from 'node:crypto';
import { createConnection } from 'mariadb';
import { poolConfigFromUrl } from '@im/db';
import type { BenchUser } from '../users.ts';

/** Who is in which conversation: rooms first (index = room number), then private chats. */
export interface InboxLayout {
  /** Conversation ids; `sizes[i]` members each. */
  conversations: string[];
  sizes: number[];
  /** Rooms are conversations 0 … rooms − 1. */
  rooms: number;
  /** Per user, the indexes of their conversations, their rooms first. */
  byUser: number[][];
}

/**
 * Every user in `roomsPerUser` rooms of `roomSize` (one per layer: the users shuffled and cut into
 * rooms, so room mates differ from layer to layer) and `privatePerUser` private chats (user i
 * with i ± 1 … i ± privatePerUser/2, around the ring).
 */
export function inboxLayout(users: BenchUser[], roomsPerUser: number, roomSize: number, privatePerUser: number): InboxLayout {
  const n = users.length;
  if (privatePerUser % 2 !== 0 || privatePerUser >= n) throw new Error(`--set private-per-user=${privatePerUser}: an even number below users (${n})`);
  if (roomSize < 2 || roomSize > n) throw new Error(`--set room-size=${roomSize}: 2 … users (${n})`);
  const conversations: string[] = [];
  const sizes: number[] = [];
  const byUser: number[][] = users.map(() => []);
  for (let layer = 0; layer < roomsPerUser; layer++) {
    const order = users.map((_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let at = 0; at < n; at += roomSize) {
      const members = order.slice(at, at + roomSize);
      const index = conversations.length;
      conversations.push(`r:${randomBytes(6).toString('hex')}`);
      sizes.push(members.length);
      for (const m of members) byUser[m]!.push(index);
    }
  }
  const rooms = conversations.length;
  for (let i = 0; i < n; i++) {
    for (let k = 1; k <= privatePerUser / 2; k++) {
      const j = (i + k) % n;
      const [a, b] = [users[i]!.userId, users[j]!.userId].sort();
      const index = conversations.length;
      conversations.push(`p:${a}:${b}`);
      sizes.push(2);
      byUser[i]!.push(index);
      byUser[j]!.push(index);
    }
  }
  // Rooms first in each user's list (the worker's ChatMix.firstPrivate = roomsPerUser).
  for (const list of byUser) list.sort((x, y) => Number(x >= rooms) - Number(y >= rooms) || x - y);
  return { conversations, sizes, rooms, byUser };
}

/**
 * Rooms, conversations and memberships straight into MySQL (as `createUsers` does for users),
 * the rows the API's room creation and first private message would write.
 */
export async function insertInbox(databaseUrl: string, users: BenchUser[], layout: InboxLayout): Promise<void> {
  const members: Array<Array<string | null>> = [];
  const rooms: Array<Array<string | number>> = [];
  const owners = new Map<number, string>();
  layout.byUser.forEach((list, u) => {
    for (const c of list) {
      const id = layout.conversations[c]!;
      if (c < layout.rooms) {
        const owner = !owners.has(c);
        if (owner) owners.set(c, users[u]!.userId);
        members.push([id, users[u]!.userId, owner ? 'owner' : 'member', null]);
      } else {
        const [, a, b] = id.split(':') as [string, string, string];
        const me = users[u]!.userId;
        members.push([id, me, null, me === a ? b : a]);
      }
    }
  });
  for (let c = 0; c < layout.rooms; c++) rooms.push([layout.conversations[c]!.slice(2), `bench room ${c}`, owners.get(c)!, layout.sizes[c]!]);
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    for (let at = 0; at < rooms.length; at += 1000) {
      const chunk = rooms.slice(at, at + 1000);
      await conn.query(
        `INSERT INTO rooms (room_id, name, owner_id, member_count, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, NOW(3), NOW(3))').join(', ')}`,
        chunk.flat(),
      );
    }
    for (let at = 0; at < layout.conversations.length; at += 1000) {
      const chunk = layout.conversations.slice(at, at + 1000);
      await conn.query(`INSERT INTO conversations (conversation, last_seq, last_activity_at) VALUES ${chunk.map(() => '(?, 0, NOW(3))').join(', ')}`, chunk);
    }
    for (let at = 0; at < members.length; at += 1000) {
      const chunk = members.slice(at, at + 1000);
      await conn.query(
        `INSERT INTO conversation_members (conversation, user_id, role, peer_id, joined_at, last_read_id) VALUES ${chunk.map(() => '(?, ?, ?, ?, NOW(3), 0)').join(', ')}`,
        chunk.flat(),
      );
    }
  } finally {
    await conn.end();
  }
}

/**
 * `count` old messages spread over the conversations (a large database for the inbox query),
 * 2,000 rows a statement; each conversation's last_seq and activity follow.
 */
export async function insertHistory(databaseUrl: string, users: BenchUser[], layout: InboxLayout, count: number): Promise<void> {
  if (count <= 0) return;
  const seqs = new Array<number>(layout.conversations.length).fill(0);
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    for (let at = 0; at < count; at += 2000) {
      const rows: string[] = [];
      for (let k = at; k < Math.min(count, at + 2000); k++) {
        const u = k % users.length;
        const list = layout.byUser[u]!;
        const c = list[Math.floor(Math.random() * list.length)]!;
        const id = layout.conversations[c]!;
        const me = users[u]!.userId;
        const target = id.startsWith('p:') ? id.split(':').find((x, i) => i > 0 && x !== me)! : null;
        seqs[c]! += 1;
        rows.push(`(${seqs[c]}, '${id}', '${me}', ${target ? `'${target}'` : 'NULL'}, 4, 'old message ${k}', 1, NOW(3) - INTERVAL ${count - k} SECOND)`);
      }
      await conn.query(`INSERT INTO chat_messages (seq, conversation, sender_id, target_id, msg_type, content, online_count, created_at) VALUES ${rows.join(',')}`);
    }
    const touched = seqs.flatMap((seq, c) => (seq > 0 ? [`('${layout.conversations[c]}', ${seq}, NOW(3))`] : []));
    for (let at = 0; at < touched.length; at += 1000) {
      await conn.query(
        `INSERT INTO conversations (conversation, last_seq, last_activity_at) VALUES ${touched.slice(at, at + 1000).join(',')} ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq), last_activity_at = VALUES(last_activity_at)`,
      );
    }
  } finally {
    await conn.end();
  }
}

/** The newest message id of every conversation with messages. */
export async function conversationHeads(databaseUrl: string): Promise<Map<string, number>> {
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    const rows: Array<{ conversation: string; id: bigint | number }> = await conn.query('SELECT conversation, MAX(id) AS id FROM chat_messages GROUP BY conversation');
    return new Map(rows.map((row) => [row.conversation, Number(row.id)]));
  } finally {
    await conn.end();
  }
}

/**
 * Deliveries the stored messages of a step owe: per conversation, its stored bench messages of
 * that step × its members. A message sent on a socket that died before the gateway stored it
 * was never accepted (a real client resends it with its client_msg_id): not a lost delivery.
 */
export async function storedExpectations(
  databaseUrl: string,
  layout: InboxLayout,
  step: number,
): Promise<{ stored: number; expected: number; expectedByConversation: Map<string, number> }> {
  const index = new Map(layout.conversations.map((c, i) => [c, i]));
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    const rows: Array<{ conversation: string; n: bigint | number }> = await conn.query(
      'SELECT conversation, COUNT(*) AS n FROM chat_messages WHERE content LIKE ? GROUP BY conversation',
      [`B|${step}|%`],
    );
    let stored = 0;
    let expected = 0;
    const expectedByConversation = new Map<string, number>();
    for (const row of rows) {
      const at = index.get(row.conversation);
      if (at === undefined) continue; // the group reference's messages, not the inbox's
      const n = Number(row.n);
      const owed = n * (layout.sizes[at] ?? 0);
      stored += n;
      expected += owed;
      expectedByConversation.set(row.conversation, owed);
    }
    return { stored, expected, expectedByConversation };
  } finally {
    await conn.end();
  }
}

/**
 * Why a private conversation's members lack a delivery of `step`: its stored messages of that
 * step (id, seq, sender, tag) and, in time order, what each member got and resumed after
 * (the generators' log), from a few seconds before the kill.
 */
export async function privateShortfallStory(databaseUrl: string, conversation: string, step: number, log: string[], killMs: number): Promise<string> {
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    const rows: Array<{ id: bigint; seq: bigint; sender_id: string; tag: string }> = await conn.query(
      'SELECT id, seq, sender_id, SUBSTRING(content, 1, 24) AS tag FROM chat_messages WHERE conversation = ? AND content LIKE ? ORDER BY seq',
      [conversation, `B|${step}|%`],
    );
    const stored = rows.map((r) => `    stored id ${r.id} seq ${r.seq} from ${r.sender_id}: ${r.tag}`);
    const since = killMs - 5_000;
    const events = log
      .map((entry) => [Number(entry.slice(0, entry.indexOf(' '))), entry] as const)
      .filter(([at]) => at >= since)
      .sort((a, b) => a[0] - b[0])
      .map(([at, entry]) => `    ${at - killMs} ms after the kill: ${entry.slice(entry.indexOf(' ') + 1)}`);
    return [`  ours: ${conversation} (step ${step + 1}):`, ...stored, ...events].join('\n');
  } finally {
    await conn.end();
  }
}
