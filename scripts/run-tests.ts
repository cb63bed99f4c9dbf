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

// `--layer unit`: the tests under packages/ and apps/ (in-process, at most MariaDB and Redis, no
// spawned cluster); `--layer cluster`: those under test/ (real processes, front doors, browsers).
// Other arguments narrow the run to files whose path contains one of them.
const args = process.argv.slice(2);
const layerAt = args.indexOf('--layer');
const layer = layerAt >= 0 ? args.splice(layerAt, 2)[1] : undefined;
const LAYERS: Record<string, string[]> = { unit: ['packages', 'apps'], cluster: ['test'] };
if (layer !== undefined && !LAYERS[layer]) {
  console.error(`run-tests: --layer must be unit or cluster, got ${layer}`);
  process.exit(1);
}
const filters = args;
const files = (layer ? LAYERS[layer]! : ['packages', 'apps', 'test'])
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
