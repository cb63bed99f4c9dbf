import assert from 'node:assert/strict';
import { call } from './http.ts';
import type { TestApi } from './start-api.ts';

let counter = 0;

/** A new, valid, unique account's input. */
export function newAccount(label = 'user') {
  counter += 1;
  const tag = `${label}${counter}${Math.random().toString(36).slice(2, 8)}`;
  return { email: `${tag}@example.com`, username: tag, password: `pw-${tag}-secret` };
}

/** The code in the last mail queued for `email`. */
export function lastCodeFor(api: TestApi, email: string): string {
  const mail = [...api.mails].reverse().find((m) => m.to === email);
  assert.ok(mail, `no mail queued for ${email}`);
  const match = /\b(\d{6})\b/.exec(mail.text);
  assert.ok(match, 'mail has no 6-digit code');
  return match[1]!;
}

/** Registers and completes the two-step login; returns the token and user. */
export async function registerAndLogin(api: TestApi, label?: string) {
  const account = newAccount(label);
  const registered = await call(api.url, '/api/users/register', { body: account });
  assert.equal(registered.code, 0, registered.msg);
  const step1 = await call(api.url, '/api/users/login', { body: { email: account.email, password: account.password } });
  assert.equal(step1.code, 0, step1.msg);
  const code = lastCodeFor(api, account.email);
  const step2 = await call(api.url, '/api/users/login', { body: { email: account.email, password: account.password, code } });
  assert.equal(step2.code, 0, step2.msg);
  return { account, token: step2.data.token as string, user: step2.data.user };
}

export type LoggedIn = Awaited<ReturnType<typeof registerAndLogin>>;

/** Several accounts at once, one per label, in the order given. */
export function registerAll<const L extends readonly string[]>(api: TestApi, labels: L): Promise<{ -readonly [K in keyof L]: LoggedIn }> {
  return Promise.all(labels.map((label) => registerAndLogin(api, label))) as Promise<{ -readonly [K in keyof L]: LoggedIn }>;
}
