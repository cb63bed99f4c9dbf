import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { MailJob } from '@im/jobs';

/** A mail as handed to a transport: the queued job plus the sender. */
export interface OutgoingMail extends MailJob {
  from: string;
}

/** Where a mail went. Safe to log: it never holds the content. */
export interface Delivery {
  /** Message-ID header of the mail. */
  messageId: string;
  /** The .eml file written by the outbox transport; absent for SMTP. */
  path?: string;
}

/**
 * Hands mail over for delivery. Two implementations: SMTP (production) and an outbox directory of
 * .eml files (development, tests, deployments without a mail server).
 */
export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  /** Resolves once the mail is accepted; rejects with nodemailer's error (see classify-failure). */
  send(mail: OutgoingMail): Promise<Delivery>;
  close(): void;
}

/** The `email` settings a transport needs (config `email`). */
export interface MailTransportSettings {
  /** `smtp://user:pass@host:port` or `smtps://…`; empty selects the outbox. */
  smtp_url: string;
  /** Directory of the outbox, created when missing. */
  outbox_dir: string;
  /**
   * SMTP connections kept open and used at once, config `email.worker_concurrency`: one per mail
   * the worker sends at the same time. @default 1
   */
  worker_concurrency?: number;
}

export function createMailTransport(settings: MailTransportSettings): MailTransport {
  const connections = settings.worker_concurrency ?? 1;
  if (!Number.isInteger(connections) || connections < 1) {
    throw new RangeError(`mail transport: worker_concurrency must be a positive integer, got ${connections}`);
  }
  return settings.smtp_url === ''
    ? createOutboxTransport(settings.outbox_dir)
    : createSmtpTransport(settings.smtp_url, connections);
}

function createSmtpTransport(url: string, maxConnections: number): MailTransport {
  // A pool: connections stay open between mails (up to 100 each, nodemailer's default, then a
  // fresh one), so a mail costs one SMTP transaction instead of TCP + greeting + EHLO + QUIT.
  // nodemailer waits up to 2 min to connect and 10 min on a silent socket; a login code is stale
  // by then, so give up sooner and let the job's backoff retry.
  const transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    kind: 'smtp',
    async send(mail) {
      const info = await transporter.sendMail(mail);
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

/** Writes each mail as an RFC 5322 `.eml` file (CRLF line ends) that any mail client opens. */
function createOutboxTransport(dir: string): MailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    kind: 'outbox',
    async send(mail) {
      const info = await composer.sendMail(mail);
      if (!Buffer.isBuffer(info.message)) throw new Error('outbox: nodemailer did not return a buffer');
      // Named here, never from the mail, so a recipient or subject cannot steer the path; the time
      // first keeps a listing in sending order.
      const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`);
      // The files hold login codes: readable by the worker's user only. Written under another name
      // and renamed, so whatever watches for *.eml never reads half a mail.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(`${path}.tmp`, info.message, { mode: 0o600, flag: 'wx' });
      await rename(`${path}.tmp`, path);
      return { messageId: info.messageId, path };
    },
    close: () => composer.close(),
  };
}
