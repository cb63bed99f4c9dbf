// `npm run build`: the production build. Each process of the cluster (scripts/build/entries.ts)
// becomes an ES module bundle with a source map, run by plain `node` (no tsx, no TypeScript).
//
// Why esbuild and bundles rather than tsc: the workspaces export their TypeScript sources
// (`./src/index.ts`), which tsx and tsc use directly in development; a bundle inlines them without
// a second set of package exports, and the build takes about a second. Type checking stays with
// `npm run typecheck`. What is inlined and what is not:
// - our workspaces (`@im/*`) and the Prisma client generated into packages/db/src/generated;
// - Prisma's client runtime (`@prisma/client`, which Prisma 7 ships for bundling). Installed, it
//   would bring its optional peers `prisma` (the CLI, ~300 MB with its own dependencies) and
//   `typescript` into every production install, because npm installs optional peers that the
//   lockfile holds; bundled, `@prisma/client` is a devDependency and `npm ci --omit=dev` leaves
//   them out. Its query compiler (wasm) goes into a chunk of its own, loaded on first query;
// - every other package stays an import of the installed package, so `npm ci --omit=dev` provides
//   it and it loads as in development (native addons, BullMQ's scripts, pino's workers).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { projectRoot } from '@im/config';
import { BUILD_ENTRIES, type BuildEntry } from './entries.ts';

/** The oldest Node the project supports (package.json engines). */
const TARGET = 'node20.19';

/** Packages inlined into the bundles; see above for why. */
const BUNDLED = [/^@im\//, /^@prisma\/client(\/|$)/, /^@prisma\/client-runtime-utils(\/|$)/];

const externalPackages: Plugin = {
  name: 'external-packages',
  setup(on) {
    on.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || BUNDLED.some((pattern) => pattern.test(args.path))) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Entries that share an output folder are built together, so code they share (and Prisma's
 * query compiler) is written once, as chunks under that folder.
 */
async function buildFolder(outdir: string, entries: readonly BuildEntry[]): Promise<Metafile> {
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: Object.fromEntries(entries.map((entry) => [basename(entry.output, extname(entry.output)), entry.source])),
    outdir: resolve(projectRoot, outdir),
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: TARGET,
    sourcemap: 'linked',
    // Maps carry positions, not the sources: stack traces still name the TypeScript files and lines.
    sourcesContent: false,
    // Keeps class and function names for stack traces and logs.
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [externalPackages],
    // Prisma's runtime is CommonJS under Node's `node` condition; its require() of Node's own
    // modules needs a `require` in these ES modules.
    banner: { js: "import { createRequire as __imCreateRequire } from 'node:module';\nconst require = __imCreateRequire(import.meta.url);" },
  });
  return result.metafile;
}

/**
 * A bundle's imports resolve from its own folder, not from the source file that wrote them.
 * Fails the build when a package would resolve to another copy than it does for the source (a
 * workspace with a node_modules folder of its own, for example).
 */
function checkResolution(outdir: string, metafile: Metafile): string[] {
  const problems: string[] = [];
  const bundleDir = resolve(projectRoot, outdir);
  for (const [input, info] of Object.entries(metafile.inputs)) {
    for (const imported of info.imports) {
      if (!isPackageImport(imported)) continue;
      const name = packageName(imported.path);
      const fromSource = packageDir(dirname(resolve(projectRoot, input)), name);
      const fromBundle = packageDir(bundleDir, name);
      if (fromSource !== fromBundle) {
        problems.push(`${outdir}: ${name} imported by ${input} resolves to ${shown(fromSource)} from the source but ${shown(fromBundle)} from the bundle`);
      }
    }
  }
  return problems;
}

/**
 * Every package a bundle imports must be in the `dependencies` of the workspace whose file imports
 * it: `npm ci --omit=dev` installs nothing else.
 */
function checkDeclared(outdir: string, metafile: Metafile): string[] {
  const problems: string[] = [];
  for (const [input, info] of Object.entries(metafile.inputs)) {
    const manifest = owningManifest(dirname(resolve(projectRoot, input)));
    const declared = new Set([...Object.keys(manifest.json.dependencies ?? {}), ...Object.keys(manifest.json.optionalDependencies ?? {})]);
    for (const imported of info.imports) {
      if (!isPackageImport(imported)) continue;
      const name = packageName(imported.path);
      if (!declared.has(name)) problems.push(`${outdir}: ${input} imports ${name}, which is not in the dependencies of ${shown(manifest.path)}`);
    }
  }
  return problems;
}

interface Manifest {
  path: string;
  json: { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
}

const manifests = new Map<string, Manifest>();

/** The package.json of the workspace (or package) that holds `dir`. */
function owningManifest(dir: string): Manifest {
  for (let current = dir; ; current = dirname(current)) {
    const path = join(current, 'package.json');
    const known = manifests.get(path);
    if (known) return known;
    if (existsSync(path)) {
      const manifest = { path, json: JSON.parse(readFileSync(path, 'utf8')) };
      manifests.set(path, manifest);
      return manifest;
    }
    if (dirname(current) === current) throw new Error(`build: no package.json above ${dir}`);
  }
}

/** An import left to an installed package (not Node's own modules, nor esbuild's `<runtime>`). */
function isPackageImport(imported: { path: string; external?: boolean }): boolean {
  return imported.external === true && !imported.path.startsWith('node:') && !imported.path.startsWith('<');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Node's lookup: the nearest node_modules/<name> at or above `dir`. */
function packageDir(dir: string, name: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(current) === current) return undefined;
  }
}

function shown(path: string | undefined): string {
  return path ? relative(projectRoot, path) : '(not installed)';
}

const started = performance.now();
const folders = new Map<string, BuildEntry[]>();
for (const entry of Object.values(BUILD_ENTRIES)) {
  const outdir = dirname(entry.output);
  folders.set(outdir, [...(folders.get(outdir) ?? []), entry]);
}
// Old bundles and chunks must not linger next to the new ones.
for (const outdir of folders.keys()) rmSync(resolve(projectRoot, outdir), { recursive: true, force: true });

const results = await Promise.all([...folders].map(async ([outdir, entries]) => ({ outdir, metafile: await buildFolder(outdir, entries) })));
const problems = results.flatMap(({ outdir, metafile }) => [...checkDeclared(outdir, metafile), ...checkResolution(outdir, metafile)]);
if (problems.length > 0) {
  process.stderr.write(`build: ${problems.length} import(s) would fail or load another copy in production:\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
process.stderr.write(
  `build: ${Object.keys(BUILD_ENTRIES).length} entries in ${Math.round(performance.now() - started)} ms: ` +
    `${Object.values(BUILD_ENTRIES).map((entry) => entry.output).join(', ')}\n`,
);
