import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpSinkOptions {
  /** @default 0 (any free port) */
  port?: number;
  /**
   * Reply code to refuse the n-th RCPT TO with (n starts at 1), or undefined to accept it.
   * @default accept every recipient
   */
  rejectRecipient?: (n: number) => number | undefined;
  /** When given, each message is only acknowledged once this promise settles. */
  holdData?: Promise<void>;
}

export interface SmtpSink {
  url: string;
  port: number;
  /** Time (ms since epoch) of every RCPT TO, accepted or not. */
  recipientAttempts: number[];
  mails: ParsedMail[];
  /** Resolves with the first mail received (now or earlier). */
  nextMail(timeoutMs?: number): Promise<ParsedMail>;
  /** Resolves when a message body starts arriving (useful with `holdData`). */
  dataStarted: Promise<void>;
  /** SMTP connections accepted so far. */
  connections(): number;
  /** Message bodies being received right now, and the most there ever were at once. */
  dataInFlight(): { now: number; max: number };
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives, parsed, and can refuse on cue. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const mails: ParsedMail[] = [];
  const recipientAttempts: number[] = [];
  let mailArrived: () => void = () => {};
  const firstMail = new Promise<void>((resolve) => (mailArrived = resolve));
  let markDataStarted: () => void = () => {};
  const dataStarted = new Promise<void>((resolve) => (markDataStarted = resolve));

  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      recipientAttempts.push(Date.now());
      const reply = options.rejectRecipient?.(recipientAttempts.length);
      if (reply === undefined) return callback();
      callback(Object.assign(new Error(`refused by the test sink (${reply})`), { responseCode: reply }));
    },
    onData(stream, _session, callback) {
      markDataStarted();
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      Promise.all([simpleParser(stream), options.holdData]).then(
        ([mail]) => {
          inFlight -= 1;
          mails.push(mail);
          mailArrived();
          callback();
        },
        (err: Error) => {
          inFlight -= 1;
          callback(err);
        },
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    recipientAttempts,
    mails,
    async nextMail(timeoutMs = 15_000) {
      await withTimeout(firstMail, timeoutMs, `no mail reached the sink within ${timeoutMs} ms`);
      return mails[0]!;
    },
    dataStarted,
    connections: () => connections,
    dataInFlight: () => ({ now: inFlight, max: maxInFlight }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
