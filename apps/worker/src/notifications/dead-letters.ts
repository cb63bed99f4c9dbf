import type { Queryable } from '@im/db';
import { utcIso } from './message-tail.ts';
import type { WebhookJob } from './webhook-delivery.ts';

export interface DeadLetter extends WebhookJob {
  id: string;
  endpoint: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string;
  createdAt: string;
  replayedAt: string | null;
}

interface Row {
  id: bigint | number;
  endpoint: string;
  event_id: string;
  event_type: string;
  payload: string;
  attempts: number;
  last_status: number | null;
  last_error: string;
  created_at: string;
  replayed_at: string | null;
}

/** Webhook deliveries given up on, in MySQL, for an operator to list and replay. */
export function createDeadLetters(sql: Queryable) {
  return {
    /** Records a failure; the same event failing again on the same endpoint (after a replay) updates its row. */
    async record(endpoint: string, job: WebhookJob, attempts: number, lastStatus: number | undefined, lastError: string): Promise<void> {
      await sql.query(
        `INSERT INTO webhook_dead_letters (endpoint, event_id, event_type, payload, attempts, last_status, last_error, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE payload = VALUES(payload), attempts = VALUES(attempts), last_status = VALUES(last_status),
           last_error = VALUES(last_error), created_at = VALUES(created_at), replayed_at = NULL`,
        [endpoint, job.eventId, job.eventType, job.body, attempts, lastStatus ?? null, lastError.slice(0, 255)],
      );
    },
    /** The newest first; replayed ones included (their replayedAt is set). */
    async list(limit = 100): Promise<DeadLetter[]> {
      const rows = await sql.query<Row[]>('SELECT * FROM webhook_dead_letters ORDER BY id DESC LIMIT ?', [limit]);
      return rows.map(toDeadLetter);
    },
    async find(id: string): Promise<DeadLetter | undefined> {
      const rows = await sql.query<Row[]>('SELECT * FROM webhook_dead_letters WHERE id = ?', [id]);
      return rows[0] ? toDeadLetter(rows[0]) : undefined;
    },
    async markReplayed(id: string): Promise<void> {
      await sql.query('UPDATE webhook_dead_letters SET replayed_at = UTC_TIMESTAMP(3) WHERE id = ?', [id]);
    },
  };
}

export type DeadLetters = ReturnType<typeof createDeadLetters>;

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: String(row.id),
    endpoint: row.endpoint,
    eventId: row.event_id,
    eventType: row.event_type,
    body: row.payload,
    attempts: Number(row.attempts),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
    createdAt: utcIso(row.created_at),
    replayedAt: row.replayed_at === null ? null : utcIso(row.replayed_at),
  };
}
