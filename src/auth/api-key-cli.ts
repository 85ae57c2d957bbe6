import { readFileSync } from 'node:fs';
import { ApiKeyConfigError, generateApiKey, hashApiKey, parseApiKeyEntries } from './api-keys.ts';
import { ALL_SCOPE_NAMES } from './scopes.ts';

/**
 * `npm run -s api-key -- new <id> --scopes directory:read,directory:pii [--departments 2,7]`
 *   makes a new random key: prints the key once (give it to the caller; it is not stored) and the
 *   entry to add to API_KEYS_FILE (its hash, never the key).
 * `npm run -s api-key -- hash` prints the hash of a key read from standard input.
 */

const USAGE = `usage:
  npm run -s api-key -- new <id> --scopes ${ALL_SCOPE_NAMES.join(',')} [--departments 2,7]
  echo -n "$KEY" | npm run -s api-key -- hash`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): number {
  const [command, id] = args;
  if (command === 'hash') {
    const key = readFileSync(0, 'utf8').trim();
    if (!key) {
      console.error('no key on standard input');
      return 2;
    }
    console.log(hashApiKey(key));
    return 0;
  }
  if (command !== 'new' || !id) {
    console.error(USAGE);
    return 2;
  }
  const scopes = (option(args, '--scopes') ?? '').split(',').filter(Boolean);
  const departmentsText = option(args, '--departments');
  const departments = departmentsText ? departmentsText.split(',').map(Number) : undefined;
  const key = generateApiKey();
  const entry = { id, hash: hashApiKey(key), scopes, ...(departments ? { departments } : {}) };
  try {
    // The same checks the service makes at start-up, so a bad entry is caught here.
    parseApiKeyEntries(JSON.stringify([entry]), 'the new key');
  } catch (err) {
    if (err instanceof ApiKeyConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  console.log(`key (give it to the caller; it is not stored anywhere): ${key}`);
  console.log(`entry for API_KEYS_FILE: ${JSON.stringify(entry)}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
