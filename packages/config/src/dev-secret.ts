import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Why a secret file cannot be used; load-config turns it into a ConfigError naming the key. */
export class SecretFileError extends Error {
  override name = 'SecretFileError';
}

const MIN_LENGTH = 32;

/**
 * The development JWT secret of this installation: read from `file`, or made there once (32
 * random bytes, base64url) when it does not exist yet. Every process of the installation reads
 * the same file, so tokens the API signs are accepted by the gateways, and nobody who only has the
 * source code can sign one.
 *
 * Hand-written because it is this system's own rule: several processes start at once and may all
 * find the file missing. Each writes its candidate to a private temporary file and hard-links it
 * into place; link() fails when the name exists, so exactly one candidate wins and nobody ever
 * reads a half-written secret.
 */
export function readOrCreateSecretFile(file: string): string {
  const existing = readSecret(file);
  if (existing !== undefined) return existing;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const candidate = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(candidate, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(candidate, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SecretFileError(`cannot create ${file}: ${(err as Error).message}`);
  } finally {
    unlinkSync(candidate);
  }
  const secret = readSecret(file);
  if (secret === undefined) throw new SecretFileError(`${file} vanished while it was being created`);
  return secret;
}

function readSecret(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SecretFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  // As ssh does with keys: a secret others may read is no secret.
  if ((statSync(file).mode & 0o077) !== 0) throw new SecretFileError(`${file} may be read by other users; chmod 600 it`);
  const secret = text.trim();
  if (secret.length < MIN_LENGTH) throw new SecretFileError(`${file} holds fewer than ${MIN_LENGTH} characters; delete it to have a new one made`);
  return secret;
}
