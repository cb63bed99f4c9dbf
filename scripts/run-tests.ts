// Runs every *.test.ts under apps/ and packages/ with node's built-in runner (tsx as the loader).
// Node 20's `--test` does not expand globs, so the files are listed here. Fails loudly when no test
// file is found, so a broken layout can never pass as "nothing to run".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir: string, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'generated' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, found);
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

// Optional arguments narrow the run to files whose path contains one of them.
const filters = process.argv.slice(2);
const files = ['packages', 'apps', 'test']
  .flatMap((root) => findTests(root))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
