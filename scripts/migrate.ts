// `npm run db:migrate`: applies prisma/migrations to the database in config (mysql.url / DATABASE_URL).
import { resolve } from 'node:path';
import { loadConfig, ConfigError, projectRoot, redactUrl } from '@im/config';
import { applyMigrations } from '@im/db';

try {
  const config = loadConfig();
  const result = await applyMigrations(config.mysql.url, resolve(projectRoot, 'prisma/migrations'));
  for (const name of result.modified) console.warn(`warning: migration ${name} was modified after it was applied`);
  console.log(
    `migrate: ${redactUrl(config.mysql.url)}: ${result.applied.length} applied` +
      (result.applied.length ? ` (${result.applied.join(', ')})` : '') +
      `, ${result.alreadyApplied.length} already applied`,
  );
} catch (err) {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`migrate failed: ${(err as Error).message}`);
  process.exit(1);
}
