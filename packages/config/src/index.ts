export { loadConfig, ConfigError, projectRoot, type Config, type LoadConfigOptions } from './load-config.ts';
export type { Settings } from './schema.ts';
export { redactUrl } from './redact-url.ts';
