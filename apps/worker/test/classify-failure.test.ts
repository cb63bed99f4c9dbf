import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnrecoverableError } from 'bullmq';
import { classifyFailure, toJobError } from '../src/classify-failure.ts';

// Shaped like the errors nodemailer 10 raises (see its dist/esm/errors.d.ts, NodemailerError).
const smtpError = (code: string, responseCode?: number) =>
  Object.assign(new Error(`${code} ${responseCode ?? ''}`), { code, responseCode });

const cases: Array<[string, unknown, 'permanent' | 'transient']> = [
  ['recipient refused with 550', smtpError('EENVELOPE', 550), 'permanent'],
  ['message refused with 554', smtpError('EMESSAGE', 554), 'permanent'],
  ['login refused with 535', smtpError('EAUTH', 535), 'permanent'],
  ['bad sequence 503, cleared by a new connection', smtpError('EPROTOCOL', 503), 'transient'],
  ['recipient deferred with 451', smtpError('EENVELOPE', 451), 'transient'],
  ['server shutting down with 421', smtpError('EPROTOCOL', 421), 'transient'],
  ['malformed address, refused before sending', smtpError('EENVELOPE'), 'permanent'],
  ['missing credentials', smtpError('ENOAUTH'), 'permanent'],
  ['connection refused', Object.assign(smtpError('ESOCKET'), { originalCode: 'ECONNREFUSED' }), 'transient'],
  ['greeting timeout', smtpError('ETIMEDOUT'), 'transient'],
  ['connection dropped', smtpError('ECONNECTION'), 'transient'],
  ['full disk in the outbox', Object.assign(new Error('no space'), { code: 'ENOSPC' }), 'transient'],
  ['something thrown that is not an Error', 'boom', 'transient'],
];

for (const [name, err, expected] of cases) {
  test(`classifyFailure: ${name} is ${expected}`, () => {
    assert.equal(classifyFailure(err), expected);
    assert.equal(toJobError(err) instanceof UnrecoverableError, expected === 'permanent');
  });
}

test('toJobError keeps the original message, which becomes the job failedReason', () => {
  assert.equal(toJobError(smtpError('EENVELOPE', 550)).message, 'EENVELOPE 550');
});
