import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mariaDbServerUnavailable, startMariaDbServer } from '../../../test/support/mariadb-server.ts';

// A private server's install and start delete the `#sql*` files of their tmpdir. With the shared
// /tmp that removed the temporary tables of queries running on the machine's MariaDB at that
// moment, failing them ("Error on delete of '/tmp/#sql-temptable-…'"), at random, in other tests.
test("starting a private MariaDB leaves the shared tmpdir's temporary tables alone", { skip: mariaDbServerUnavailable, timeout: 120_000 }, async () => {
  const probe = join(tmpdir(), `#sql-im-probe-${process.pid}-${Date.now()}.MAI`);
  writeFileSync(probe, '');
  try {
    const server = await startMariaDbServer();
    await server.stop();
    assert.ok(existsSync(probe), `${probe} was deleted`);
  } finally {
    rmSync(probe, { force: true });
  }
});
