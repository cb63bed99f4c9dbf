// The processes of the cluster and the production build's file for each: one list, read by the
// build (scripts/build/build.ts), the start command (which runs them from the sources under tsx,
// or from the build when it was itself started from the build) and the container test.

import { resolve } from 'node:path';
import { projectRoot } from '@im/config';

export interface BuildEntry {
  /** Source file, relative to the project root. */
  source: string;
  /**
   * Bundle written by `npm run build`, relative to the project root. Each lands inside the
   * workspace whose package.json declares the entry's dependencies, so the packages it imports
   * resolve from the same node_modules folders as they do for the sources.
   */
  output: string;
}

export const BUILD_ENTRIES = {
  api: { source: 'apps/api/src/index.ts', output: 'apps/api/dist/index.js' },
  gateway: { source: 'apps/gateway/src/index.ts', output: 'apps/gateway/dist/index.js' },
  worker: { source: 'apps/worker/src/index.ts', output: 'apps/worker/dist/index.js' },
  webhooks: { source: 'apps/worker/src/webhooks-cli.ts', output: 'apps/worker/dist/webhooks-cli.js' },
  start: { source: 'scripts/start.ts', output: 'dist/start.js' },
  migrate: { source: 'scripts/migrate.ts', output: 'dist/migrate.js' },
  frontDoor: { source: 'scripts/cluster/node-front-door-main.ts', output: 'dist/front-door.js' },
  renderNginx: { source: 'scripts/cluster/render-nginx.ts', output: 'dist/render-nginx.js' },
} as const satisfies Record<string, BuildEntry>;

export type EntryName = keyof typeof BUILD_ENTRIES;

/**
 * Whether the calling module runs from the build: bundles are .js files, sources .ts under tsx.
 * Pass `import.meta.url`.
 */
export function isBuilt(moduleUrl: string): boolean {
  return !new URL(moduleUrl).pathname.endsWith('.ts');
}

/** The file to run for `name` (absolute): its bundle when `built`, else its source. */
export function entryFile(name: EntryName, built: boolean): string {
  const entry = BUILD_ENTRIES[name];
  return resolve(projectRoot, built ? entry.output : entry.source);
}

/**
 * Node's flags for an entry file: sources load through tsx; bundles run on plain node, with
 * source maps so stack traces name the TypeScript files and lines.
 */
export function nodeFlagsFor(file: string): string[] {
  return file.endsWith('.ts') ? ['--import', 'tsx'] : ['--enable-source-maps'];
}
