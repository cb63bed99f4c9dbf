import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '@im/config';
import type { RunResult } from './types.ts';

/** `bench/results/<timestamp>-<scenario>-run<n>.json`; returns the path relative to the repository. */
export function writeRunJson(dir: string, result: RunResult): string {
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}-${result.scenario}-run${result.run}.json`);
  writeFileSync(file, JSON.stringify(result, jsonNumbers, 2) + '\n');
  return relative(projectRoot, file);
}

export function writeText(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, text);
  return relative(projectRoot, file);
}

/** NaN and Infinity are not JSON: they become null (meaning "no such figure"). */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
