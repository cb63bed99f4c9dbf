import { ConfigError, loadConfig, type Config } from '@im/config';
import { exitWithMessage } from './shutdown.ts';

/** For entry points: the validated config, or one clear line on stderr and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) exitWithMessage(err.message);
    throw err;
  }
}
