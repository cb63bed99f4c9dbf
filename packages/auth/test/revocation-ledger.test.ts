import { after } from 'node:test';
import { createRevocationLedger } from '@im/db';
import { createTestDatabase, type TestDatabase } from '@im/testing';
import { createMemoryRevocationLedger } from '../src/index.ts';
import { revocationLedgerContract } from './revocation-ledger-contract.ts';

revocationLedgerContract('memory', async () => createMemoryRevocationLedger());

let database: TestDatabase | undefined;
let ledger: ReturnType<typeof createRevocationLedger> | undefined;
// One database and ledger for every test of the MySQL run; each test uses fresh random jtis.
revocationLedgerContract('MySQL', async () => {
  database ??= await createTestDatabase();
  ledger ??= createRevocationLedger({ url: database.url });
  return ledger;
});
after(async () => {
  await ledger?.close();
  await database?.drop();
});
