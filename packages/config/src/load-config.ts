import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { readOrCreateSecretFile, SecretFileError } from './dev-secret.ts';
import { applyEnvOverrides, retiredVariables } from './env-overrides.ts';
import { projectRoot } from './project-root.ts';
import { settingsSchema, type Settings } from './schema.ts';

export { projectRoot };

const defaultFile = resolve(projectRoot, 'config/settings.yaml');

/**
 * The secret settings.yaml once shipped, public in the repository's history: refused everywhere,
 * so an installation that copied it into its own settings learns that anyone can sign its tokens.
 */
const PUBLISHED_JWT_SECRET = 'dev-only-insecure-secret-change-me-0123456789';

export type Config = Readonly<Settings> & { readonly configFile: string };

/** Raised for any bad or missing setting; `message` is the one line to print before exiting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Deep-merged over the file before env overrides; tests use it to tune limits. */
  overrides?: DeepPartial<Settings>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Reads settings.yaml (or the file named by IM_CONFIG), overlays environment variables, validates
 * and freezes the result. Call once at start-up and pass the object down.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = env.IM_CONFIG ? resolve(env.IM_CONFIG) : defaultFile;

  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(`config: ${file} is not a YAML mapping`);

  for (const [name, explanation] of Object.entries(retiredVariables)) {
    if (env[name] !== undefined) throw new ConfigError(`config: ${explanation}; unset ${name}`);
  }
  const merged = deepMerge(raw as Record<string, unknown>, (options.overrides ?? {}) as Record<string, unknown>);
  applyEnvOverrides(merged, env);

  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(root)';
    throw new ConfigError(`config: ${key}: ${issue.message} (in ${file} or its environment override)`);
  }
  const settings = parsed.data;
  settings.jwt.secret_file = resolveFromRoot(settings.jwt.secret_file);
  settings.jwt.secret = jwtSecret(settings);
  if (settings.gateway.presence_heartbeat_ms * 2 > settings.gateway.presence_lease_ms) {
    throw new ConfigError('config: gateway.presence_heartbeat_ms: must be at most half of gateway.presence_lease_ms');
  }
  if (settings.system.env === 'production') {
    const plain = settings.notifications.webhooks.endpoints.find((e) => !e.url.startsWith('https://'));
    if (plain) throw new ConfigError(`config: notifications.webhooks.endpoints: ${plain.name}: production sends webhooks over https:// only`);
  }
  settings.email.outbox_dir = resolveFromRoot(settings.email.outbox_dir);
  settings.upload.root = resolveFromRoot(settings.upload.root);
  settings.web.root = resolveFromRoot(settings.web.root);
  return deepFreeze({ ...settings, configFile: file });
}

/** The configured secret; in development without one, the installation's own (see dev-secret.ts). */
function jwtSecret(settings: Settings): string {
  const { secret, secret_file: file } = settings.jwt;
  if (secret === PUBLISHED_JWT_SECRET) {
    throw new ConfigError('config: jwt.secret: this is the example secret published with the source code; anyone can sign tokens with it. Set JWT_SECRET to a secret of your own, or leave it empty in development');
  }
  if (secret !== '') return secret;
  if (settings.system.env === 'production') {
    throw new ConfigError('config: jwt.secret: production needs a secret of its own (at least 32 characters); set JWT_SECRET');
  }
  try {
    return readOrCreateSecretFile(file);
  } catch (err) {
    if (err instanceof SecretFileError) throw new ConfigError(`config: jwt.secret_file: ${err.message}`);
    throw err;
  }
}

function resolveFromRoot(path: string): string {
  return isAbsolute(path) ? path : resolve(projectRoot, path);
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      isPlainObject(value) && isPlainObject(current) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
