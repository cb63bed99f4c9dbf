import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig, projectRoot } from '../src/index.ts';

/** Once printed in config/settings.yaml, so anyone could sign tokens for any user of a default start. */
const PUBLISHED = 'dev-only-insecure-secret-change-me-0123456789';

describe('the JWT secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-secret-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fileIn = (name: string) => join(dir, name, 'jwt-secret');

  it('settings.yaml prints none; a development start signs with a secret made for this installation, kept 0600', () => {
    const shipped = parse(readFileSync(resolve(projectRoot, 'config/settings.yaml'), 'utf8')) as { jwt: { secret: string } };
    assert.equal(shipped.jwt.secret, '');

    const file = fileIn('install');
    const first = loadConfig({ env: { JWT_SECRET_FILE: file } }).jwt.secret;
    assert.notEqual(first, PUBLISHED);
    assert.ok(first.length >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(loadConfig({ env: { JWT_SECRET_FILE: file } }).jwt.secret, first, 'the same secret on the next start');
    assert.notEqual(loadConfig({ env: { JWT_SECRET_FILE: fileIn('other-install') } }).jwt.secret, first, 'another installation has its own');
  });

  it('processes of one installation starting at the same moment all get the one secret', async () => {
    const file = fileIn('race');
    const read = () =>
      new Promise<string>((done, fail) => {
        const source = `import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)}).then(({ loadConfig }) => console.log(loadConfig().jwt.secret))`;
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', source], {
          env: { ...process.env, JWT_SECRET_FILE: file, JWT_SECRET: '' },
          cwd: projectRoot,
        });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.on('exit', (code) => (code === 0 ? done(out.trim()) : fail(new Error(`exit ${code}`))));
      });
    const secrets = await Promise.all([read(), read(), read(), read()]);
    assert.equal(new Set(secrets).size, 1, 'one secret');
    assert.equal(secrets[0], readFileSync(file, 'utf8').trim());
    assert.deepEqual(readdirSync(join(dir, 'race')), ['jwt-secret'], 'no temporary file left');
  });

  it('production refuses to start without a secret of its own', () => {
    assert.throws(() => loadConfig({ env: { NODE_ENV: 'production', JWT_SECRET_FILE: fileIn('prod') } }), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /jwt\.secret: production needs a secret of its own/);
      return true;
    });
    assert.equal(loadConfig({ env: { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) } }).jwt.secret, 'x'.repeat(40));
  });

  it('the secret published with the source code is refused everywhere', () => {
    for (const env of ['development', 'production']) {
      assert.throws(() => loadConfig({ env: { NODE_ENV: env, JWT_SECRET: PUBLISHED } }), /published with the source code/);
    }
  });

  it('a secret file other users may read is refused, naming the file', () => {
    const file = fileIn('open');
    loadConfig({ env: { JWT_SECRET_FILE: file } });
    chmodSync(file, 0o644);
    assert.throws(() => loadConfig({ env: { JWT_SECRET_FILE: file } }), /jwt\.secret_file: .*may be read by other users; chmod 600 it/);
  });
});
