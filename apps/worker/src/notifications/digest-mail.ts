import type { MailJob } from '@im/jobs';

export type MailLanguage = 'zh' | 'en';

export interface DigestLine {
  username: string;
  /** The room's name; absent for a private message. */
  room: string | undefined;
  msgType: number;
  content: string;
  /** ISO 8601, UTC. */
  date: string;
}

const TEXT = {
  zh: {
    subject: (n: number) => `你有 ${n} 条离线消息`,
    intro: (n: number) => `你离线时收到了 ${n} 条消息：`,
    private: (who: string) => `${who}（私聊）`,
    inRoom: (who: string, room: string) => `${who}（群组「${room}」）`,
    file: '[文件]',
    more: (n: number) => `……还有 ${n} 条，请登录查看。`,
    footer: '如不想再收到此类邮件，可在账户设置中关闭离线消息摘要。',
  },
  en: {
    subject: (n: number) => `You have ${n} new message${n === 1 ? '' : 's'}`,
    intro: (n: number) => `While you were away you received ${n} message${n === 1 ? '' : 's'}:`,
    private: (who: string) => `${who} (private)`,
    inRoom: (who: string, room: string) => `${who} (in "${room}")`,
    file: '[file]',
    more: (n: number) => `…and ${n} more: sign in to read them.`,
    footer: 'To stop these mails, turn off the offline digest in your account settings.',
  },
};

/** The digest mail in the user's language: `lines` are the first messages of `total`. */
export function digestMail(to: string, language: MailLanguage, lines: readonly DigestLine[], total: number): MailJob {
  const t = TEXT[language];
  const body = lines.map((line) => {
    const who = line.room === undefined ? t.private(line.username) : t.inRoom(line.username, line.room);
    const what = line.msgType === 4 ? line.content : `${t.file} ${line.content}`;
    return `${line.date.slice(0, 16).replace('T', ' ')} UTC  ${who}: ${what}`;
  });
  const more = total > lines.length ? [t.more(total - lines.length)] : [];
  return { to, subject: t.subject(total), text: [t.intro(total), '', ...body, ...more, '', t.footer].join('\n') };
}
