// Proves the hand-written migrations build exactly the database schema.prisma describes: Prisma's
// schema engine (which would normally diff them) cannot run here, so this test is what stops a
// schema change from shipping without its migration, or a migration from drifting from the schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'mariadb';
import { applyMigrations } from '../src/migrate.ts';
import { readDbSnapshot, type DbSnapshot } from './db-snapshot.ts';
import { loadDatamodel } from './prisma-mysql.ts';
import { diffSchema } from './schema-diff.ts';
import { connectServer, migrationsDir, schemaPath, testDatabases } from './test-database.ts';

const schema = readFileSync(schemaPath, 'utf8');
const databases = testDatabases();
let conn: Connection | undefined;
let snapshot: DbSnapshot;

before(async () => {
  const db = databases.create();
  await applyMigrations(db.url, migrationsDir);
  conn = await connectServer();
  snapshot = await readDbSnapshot(conn, db.name);
});

after(async () => {
  await conn?.end();
  await databases.dropAll();
});

test('the migrations create every model, field, key and index of schema.prisma, and nothing else', async () => {
  const datamodel = await loadDatamodel(schema);
  assert.ok(datamodel.models.length > 0, 'schema.prisma has no models');
  assert.deepEqual(diffSchema(datamodel, snapshot), []);
});

/** The schema with `from` replaced; fails when `from` is gone, so a mutation can never be a silent no-op. */
function mutated(from: string, to: string): string {
  assert.ok(schema.includes(from), `schema.prisma no longer contains ${JSON.stringify(from)}; update this test`);
  return schema.replace(from, to);
}

// Each case edits schema.prisma as a developer might without writing a migration, and names the
// exact report the comparison must make against the unchanged database.
const USER_AVATAR = 'avatar       String   @db.VarChar(255)';
const MESSAGE_SENDER = 'sender User  @relation("sender", fields: [senderId], references: [userId])';
const USER_CREATED_AT = 'createdAt    DateTime @default(now()) @map("created_at") @db.DateTime(3)\n  updatedAt';

const mutations: Array<{ name: string; schema: () => string; expected: string[] }> = [
  {
    name: 'a new field',
    schema: () => mutated(USER_AVATAR, `${USER_AVATAR}\n  nickname String? @db.VarChar(64)`),
    expected: ['column users.nickname (User.nickname) is missing from the database'],
  },
  {
    name: 'a removed field',
    schema: () => mutated(`  ${USER_AVATAR}\n`, ''),
    expected: ['column users.avatar exists in the database but not in model User'],
  },
  {
    name: 'a changed length',
    schema: () => mutated('@unique @db.VarChar(32)', '@unique @db.VarChar(40)'),
    expected: ['column users.username (User.username): type is varchar(32), schema expects varchar(40)'],
  },
  {
    name: 'a field made optional',
    schema: () => mutated(USER_AVATAR, 'avatar       String?  @db.VarChar(255)'),
    expected: ['column users.avatar (User.avatar): NOT NULL in the database, schema says optional'],
  },
  {
    name: 'a removed default',
    schema: () => mutated(USER_CREATED_AT, USER_CREATED_AT.replace(' @default(now())', '')),
    expected: ['column users.created_at (User.createdAt): default is current_timestamp(3), schema expects none'],
  },
  {
    name: 'a new index',
    schema: () => mutated('@@index([createdAt])', '@@index([createdAt])\n  @@index([avatar])'),
    expected: ['index users_avatar_idx on users (avatar) is missing from the database'],
  },
  {
    name: 'a removed unique constraint',
    schema: () => mutated('email        String   @unique', 'email        String  '),
    expected: ['index users_email_key on users (email) exists in the database but not in model User'],
  },
  {
    name: 'reordered index columns',
    schema: () => mutated('@@index([conversation, id])', '@@index([id, conversation])'),
    expected: [
      'index chat_messages_id_conversation_idx on chat_messages (id, conversation) is missing from the database',
      'index chat_messages_conversation_id_idx on chat_messages (conversation, id) exists in the database but not in model ChatMessage',
    ],
  },
  {
    name: 'an index mapped to the name it already has',
    schema: () => mutated('@@index([conversation, id])', '@@index([conversation, id], map: "chat_messages_conversation_id_idx")'),
    expected: [],
  },
  {
    name: 'a changed referential action',
    schema: () => mutated(MESSAGE_SENDER, MESSAGE_SENDER.replace(')', ', onDelete: Cascade)')),
    expected: ['foreign key chat_messages_sender_id_fkey on chat_messages (ChatMessage.sender): onDelete is RESTRICT, schema expects CASCADE'],
  },
  {
    name: 'a new model',
    schema: () => `${schema}\nmodel Tag {\n  id   Int    @id @default(autoincrement())\n  name String @unique\n  @@map("tags")\n}\n`,
    expected: ['table tags (model Tag) is missing from the database'],
  },
];

// The other direction: a migration that gets a detail wrong which the datamodel cannot express
// (a collation, an ON UPDATE clause, a referential action, the table charset).
test('the comparison reports drift made inside the database', async () => {
  const db = databases.create();
  await applyMigrations(db.url, migrationsDir);
  const drift = await connectServer();
  try {
    await drift.query(`USE \`${db.name}\``);
    await drift.query('ALTER TABLE users MODIFY avatar VARCHAR(255) COLLATE utf8mb4_bin NOT NULL');
    await drift.query(
      'ALTER TABLE users MODIFY updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)',
    );
    await drift.query('ALTER TABLE files DEFAULT CHARACTER SET latin1');
    await drift.query('ALTER TABLE files DROP FOREIGN KEY files_target_id_fkey');
    await drift.query(
      'ALTER TABLE files ADD CONSTRAINT files_target_id_fkey FOREIGN KEY (target_id) REFERENCES users (user_id) ON DELETE CASCADE ON UPDATE CASCADE',
    );
    const datamodel = await loadDatamodel(schema);
    assert.deepEqual(diffSchema(datamodel, await readDbSnapshot(drift, db.name)), [
      'column users.avatar (User.avatar): collation is utf8mb4_bin, expected utf8mb4_unicode_ci',
      'column users.updated_at (User.updatedAt): default is current_timestamp(3), schema expects none',
      'column users.updated_at (User.updatedAt): EXTRA is "on update current_timestamp(3)", schema expects ""',
      'table files (model File): character set is latin1, expected utf8mb4',
      'table files (model File): collation is latin1_swedish_ci, expected utf8mb4_unicode_ci',
      'foreign key files_target_id_fkey on files (File.target): onDelete is CASCADE, schema expects SET NULL',
    ]);
  } finally {
    await drift.end();
  }
});

describe('the comparison reports a schema change that has no migration', () => {
  for (const mutation of mutations) {
    test(mutation.name, async () => {
      const datamodel = await loadDatamodel(mutation.schema());
      assert.deepEqual(diffSchema(datamodel, snapshot), mutation.expected);
    });
  }
});
