// Configuration for the Prisma CLI. The running services never read this file: they build their
// connection from config/settings.yaml (packages/config). Operators who have Prisma's native schema
// engine can run `npx prisma migrate deploy` against the same database as `npm run db:migrate`.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/im' },
});
