import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './config-error.ts';

/** Read when ENV_FILE is not set; its absence is normal (production sets the real environment). */
export const DEFAULT_ENV_FILE = '.env';

export interface EnvFileResult {
  /** The file read, if any. */
  path?: string;
  /** Variables taken from it (names only: values may be secrets). */
  applied: string[];
  /** Variables the file sets that the real environment already had (the environment wins). */
  overridden: string[];
}

/**
 * Adds the variables of an optional .env file (`ENV_FILE` names another) to `env`, before the
 * configuration is validated. The real environment wins: a variable already set is left alone,
 * so a deployment can override any line of a checked-in file. An ENV_FILE that cannot be read is
 * an error (it was asked for); a missing default .env is not.
 */
export function applyEnvFile(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): EnvFileResult {
  const explicit = env.ENV_FILE?.trim() || undefined;
  const path = resolve(cwd, explicit ?? DEFAULT_ENV_FILE);
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return { applied: [], overridden: [] };
    throw new ConfigError(
      `invalid configuration:\n- ENV_FILE: cannot read ${path} (${code ?? 'error'}); set it to a readable file of NAME=value lines, or unset it`,
    );
  }
  const parsed = parseEnv(content);
  const applied: string[] = [];
  const overridden: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    if (env[name] !== undefined) {
      overridden.push(name);
      continue;
    }
    env[name] = value;
    applied.push(name);
  }
  return { path, applied: applied.sort(), overridden: overridden.sort() };
}
