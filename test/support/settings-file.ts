import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectRoot } from '@im/config';

/**
 * A copy of config/settings.yaml with some keys changed, for settings that have no environment
 * override (e.g. gateway.messages_per_second). Pass `IM_CONFIG: file.path` in the cluster's env.
 */
export function writeSettingsFile(overrides: Record<string, Record<string, unknown>>): { path: string; remove(): void } {
  const settings = parse(readFileSync(resolve(projectRoot, 'config/settings.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides)) settings[section] = { ...settings[section], ...values };
  const dir = mkdtempSync(join(tmpdir(), 'im-settings-'));
  const path = join(dir, 'settings.yaml');
  writeFileSync(path, stringify(settings));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
