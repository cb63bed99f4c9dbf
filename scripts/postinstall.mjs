// npm's postinstall. In a development install it generates the Prisma client into
// packages/db/src/generated with the prisma CLI, a devDependency. A production install
// (`npm ci --omit=dev`) has no CLI and needs none: the build output carries the generated client
// (scripts/build/build.ts bundles it). Plain JavaScript, because tsx is a devDependency too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (existsSync(join(root, 'node_modules/prisma/package.json'))) {
  const result = spawnSync('npm', ['run', 'db:generate'], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

if (existsSync(join(root, 'apps/api/dist/index.js'))) {
  process.stdout.write('postinstall: production install (no prisma CLI); the build output carries the generated Prisma client\n');
} else {
  process.stdout.write(
    'postinstall: production install (no prisma CLI) but no build output: build in a full install first ' +
      '(npm ci && npm run build), then npm ci --omit=dev\n',
  );
}
