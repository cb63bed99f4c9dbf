import { after } from 'node:test';
import { createDb, createRevocationLedger, type Db } from '@im/db';
import { createTestDatabase, type TestDatabase } from '@im/testing';
import { createMemoryRevocationLedger } from '../src/index.ts';
import { revocationLedgerContract } from './revocation-ledger-contract.ts';

revocationLedgerContract('memory', async () => createMemoryRevocationLedger());

let database: TestDatabase | undefined;
let db: Db | undefined;
// One database for every test of the MySQL run; each test uses fresh random jtis.
revocationLedgerContract('MySQL', async () => {
  database ??= await createTestDatabase();
  db ??= createDb({ url: database.url, connectionLimit: 2 });
  return createRevocationLedger(db);
});
after(async () => {
  await db?.$disconnect();
  await database?.drop();
});
