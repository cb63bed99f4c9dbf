import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { projectRoot } from '@im/config';

/**
 * Files linked before they exist, each with the branch that brings it. Remove an entry once it has
 * landed: the link is then checked like any other.
 */
const PENDING: Record<string, string> = {
  'docs/protocol-part2.md': 'part2-api (issue 11)',
};

function markdownFiles(): string[] {
  const docs = readdirSync(resolve(projectRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  return ['README.md', 'DEVELOPERS.md', 'deploy/README.md', 'bench/README.md', ...docs].filter((file) => existsSync(resolve(projectRoot, file)));
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('stay inside the repository: nothing sends readers to ../shared or to a contract they do not have', () => {
    for (const file of files) {
      const text = readFileSync(resolve(projectRoot, file), 'utf8');
      assert.ok(!text.includes('../shared'), `${file} links outside the repository`);
      assert.ok(!/\bCONTRACT\.md\b/.test(text), `${file} names CONTRACT.md; the protocol is docs/protocol.md`);
    }
  });

  it('point at files that exist', () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(resolve(projectRoot, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
        const path = resolve(projectRoot, dirname(file), target!.split('#')[0]!);
        const relative = path.slice(projectRoot.length + 1);
        if (!existsSync(path) && !(relative in PENDING)) broken.push(`${file} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
