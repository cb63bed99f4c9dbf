// Dependencies point one way (DEVELOPERS.md): protocol → config → shared packages → apps.
// madge finds cycles between files; this finds what it cannot see across workspaces: an `@im/*`
// import that the importing workspace does not declare, a package that imports an app, and any
// cycle between workspaces.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

interface Workspace {
  name: string;
  dir: string;
  declared: Set<string>;
  /** @im/x → first file importing it, from src/ (runtime) and from test/ (dev only). */
  imported: Map<string, string>;
  testImported: Map<string, string>;
}

const problems: string[] = [];
const workspaces = new Map<string, Workspace>();

for (const root of ['packages', 'apps']) {
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry);
    const manifestPath = join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const declared = new Set(
      [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})].filter((d) =>
        d.startsWith('@im/'),
      ),
    );
    workspaces.set(manifest.name, { name: manifest.name, dir, declared, imported: new Map(), testImported: new Map() });
  }
}

const IMPORT = /(?:from|import)\s*\(?\s*['"](@im\/[a-z-]+)/g;
for (const ws of workspaces.values()) {
  for (const [folder, found] of [['src', ws.imported], ['test', ws.testImported]] as const) {
    for (const file of sourceFiles(join(ws.dir, folder))) {
      for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const target = match[1]!;
        if (!found.has(target)) found.set(target, file);
      }
    }
  }
  for (const [target, file] of [...ws.imported, ...ws.testImported]) {
    if (target === ws.name) problems.push(`${file} imports its own package ${target} by name`);
    else if (!workspaces.has(target)) problems.push(`${file} imports unknown workspace ${target}`);
    else if (!ws.declared.has(target)) problems.push(`${file} imports ${target}, not declared in ${ws.dir}/package.json`);
    if (ws.dir.startsWith('packages') && workspaces.get(target)?.dir.startsWith('apps')) {
      problems.push(`${file}: package ${ws.name} imports app ${target}`);
    }
  }
}

// Cycles over declared runtime dependencies (src imports), depth-first.
const state = new Map<string, 'visiting' | 'done'>();
function visit(name: string, path: string[]): void {
  if (state.get(name) === 'done') return;
  if (state.get(name) === 'visiting') {
    problems.push(`workspace cycle: ${[...path.slice(path.indexOf(name)), name].join(' → ')}`);
    return;
  }
  state.set(name, 'visiting');
  for (const next of workspaces.get(name)?.imported.keys() ?? []) if (workspaces.has(next)) visit(next, [...path, name]);
  state.set(name, 'done');
}
for (const name of workspaces.keys()) visit(name, []);

if (problems.length > 0) {
  console.error(problems.map((p) => `check-deps: ${p}`).join('\n'));
  process.exit(1);
}
console.log(`check-deps: ${workspaces.size} workspaces, dependencies point one way`);

function* sourceFiles(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'generated' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts') || name.endsWith('.tsx')) yield path;
  }
}
