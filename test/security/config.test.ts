import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { configErrorOf } from '../testkit/config.ts';
import { loadSecurityConfig } from '../../src/config/security.ts';
import { anonymousAccessWarning } from '../../src/security/from-config.ts';
import { freePort } from '../helpers/service-process.ts';
import { graphql } from '../generated/index.ts';
import { processTest } from '../testkit/ops.ts';
import { testKey } from './helpers.ts';

/**
 * The security configuration: what each variable does, the errors that name it, and the start-up
 * rule (real WeCom and no caller credential: refuse to start unless ALLOW_ANONYMOUS=true; the
 * embedded emulator without credentials: anonymous full access, said loudly).
 */

const REMOTE = { WECOM_CORP_ID: 'ww1234', WECOM_CONTACT_SECRET: 'topsecret-contact' };
const key = testKey('ops', ['directory:read', 'directory:write']);

describe('who may call', () => {
  it('embedded emulator, nothing configured: anonymous callers get every scope, with a loud warning', () => {
    const { security } = loadConfig({});
    expect(security).toMatchObject({
      apiKeys: [],
      anonymousReason: 'embedded-without-credentials',
      anonymousScopes: ['directory:read', 'directory:write', 'directory:pii', 'directory:admin'],
    });
    expect(security.refusal).toBeUndefined();
    expect(anonymousAccessWarning(security)).toMatch(
      /ANONYMOUS ACCESS: requests without a credential are served with directory:read, directory:write, directory:pii, directory:admin\n!! because the service runs on the embedded WeCom emulator/,
    );
  });

  it('real WeCom, nothing configured: the configuration says the service must not start', () => {
    const { security } = loadConfig(REMOTE);
    expect(security.refusal).toMatch(/talks to real WeCom and no caller credential is configured.*ALLOW_ANONYMOUS=true/);
    expect(security.anonymousScopes).toBeUndefined();
  });

  it('real WeCom with ALLOW_ANONYMOUS=true: anonymous callers, with ANONYMOUS_SCOPES when given', () => {
    expect(loadConfig({ ...REMOTE, ALLOW_ANONYMOUS: 'true' }).security).toMatchObject({
      anonymousReason: 'ALLOW_ANONYMOUS',
      anonymousScopes: expect.arrayContaining(['directory:write']),
    });
    expect(loadConfig({ ...REMOTE, ALLOW_ANONYMOUS: 'true', ANONYMOUS_SCOPES: 'directory:read' }).security.anonymousScopes).toEqual([
      'directory:read',
    ]);
  });

  it('API keys from API_KEYS (JSON) and API_KEYS_FILE, stored as hashes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const other = testKey('dashboard', ['directory:read'], [2]);
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([other.entry]));
    const { security } = loadConfig({ ...REMOTE, API_KEYS: JSON.stringify([key.entry]), API_KEYS_FILE: file });
    expect(security.apiKeys).toEqual([key.entry, other.entry]);
    expect(security.refusal).toBeUndefined();
    expect(security.anonymousScopes).toBeUndefined();
    expect(JSON.stringify(security)).not.toContain(key.key);
  });

  it('keys configured on the embedded emulator: no anonymous access', () => {
    const { security } = loadConfig({ API_KEYS: JSON.stringify([key.entry]) });
    expect(security.anonymousReason).toBeUndefined();
    expect(anonymousAccessWarning(security)).toBeUndefined();
  });

  it('JWT settings: the secret or JWKS URL with issuer and audience', () => {
    const { security } = loadConfig({
      ...REMOTE,
      JWT_HS256_SECRET: 's'.repeat(32),
      JWT_ISSUER: 'https://id.example.com',
      JWT_AUDIENCE: 'dir',
    });
    expect(security.jwt).toEqual({ hs256Secret: 's'.repeat(32), issuer: 'https://id.example.com', audience: 'dir' });
    expect(
      loadConfig({ ...REMOTE, JWT_JWKS_URL: 'https://id.example.com/jwks.json', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).security.jwt?.jwksUrl,
    ).toBe('https://id.example.com/jwks.json');
  });

  it.each([
    [{ API_KEYS: 'not json' }, 'API_KEYS: not valid JSON'],
    [{ API_KEYS: '{}' }, 'API_KEYS: expected a JSON array'],
    [
      { API_KEYS: JSON.stringify([{ id: 'a', hash: 'plain', scopes: ['directory:read'] }]) },
      'API_KEYS[0]: hash: "sha256:" and 64 hex digits',
    ],
    [{ API_KEYS: JSON.stringify([{ ...key.entry, scopes: ['directory:everything'] }]) }, 'unknown scope "directory:everything"'],
    [
      { API_KEYS: JSON.stringify([key.entry, { ...key.entry, hash: testKey('x', ['directory:read']).entry.hash }]) },
      'id ops is used twice',
    ],
    [{ API_KEYS: JSON.stringify([{ ...key.entry, departments: [0] }]) }, 'departments: a list of WeCom department ids'],
    [{ API_KEYS_FILE: '/no/such/file.json' }, 'API_KEYS_FILE: cannot read /no/such/file.json'],
    [{ JWT_HS256_SECRET: 'short-topsecret' }, 'JWT_HS256_SECRET: must be at least 32 bytes'],
    [{ JWT_HS256_SECRET: 'x'.repeat(40) }, 'JWT_ISSUER: required'],
    [{ JWT_JWKS_URL: 'http://id.example.com/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }, 'JWT_JWKS_URL: must be an https URL'],
    [{ JWT_ISSUER: 'i' }, 'set JWT_HS256_SECRET or JWT_JWKS_URL too'],
    [{ ANONYMOUS_SCOPES: 'directory:read' }, 'ANONYMOUS_SCOPES: only with ALLOW_ANONYMOUS=true'],
    [{ ALLOW_ANONYMOUS: 'true', ANONYMOUS_SCOPES: 'read' }, 'ANONYMOUS_SCOPES: unknown scope "read"'],
    [{ ALLOW_ANONYMOUS: 'yes' }, 'ALLOW_ANONYMOUS must be "true" or "false"'],
    [{ MAX_QUERY_DEPTH: '1' }, 'MAX_QUERY_DEPTH must be an integer from 2 to 100'],
    [{ MAX_UPLOAD_BYTES: String(21 * 1024 * 1024) }, 'MAX_UPLOAD_BYTES must be an integer from 6 to 20971520'],
    [
      { HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '30000' },
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS',
    ],
    [{ PERSISTED_OPERATIONS_FILE: 'x.json' }, 'PERSISTED_OPERATIONS_FILE: only with PERSISTED_OPERATIONS_ONLY=true'],
  ])('refuses %j naming the variable, without echoing secrets', (env, named) => {
    const message = configErrorOf(env as Record<string, string>);
    expect(message).toContain(named);
    expect(message).not.toContain('topsecret');
  });
});

describe('limits and switches', () => {
  it('defaults: GraphiQL and introspection on in development, off in production; CSRF on; batching off', () => {
    const dev = loadConfig({}).security;
    expect(dev).toMatchObject({ graphiql: true, introspection: true, csrf: true, batching: false });
    const prod = loadConfig({ NODE_ENV: 'production' }).security;
    expect(prod).toMatchObject({ graphiql: false, introspection: false, csrf: true });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true' }).security).toMatchObject({
      graphiql: true,
      introspection: true,
    });
  });

  it('every limit has a variable', () => {
    const result = loadSecurityConfig(
      {
        MAX_QUERY_DEPTH: '8',
        MAX_QUERY_ALIASES: '5',
        MAX_QUERY_DIRECTIVES: '4',
        MAX_QUERY_TOKENS: '500',
        MAX_QUERY_CHARACTERS: '4000',
        MAX_QUERY_COST: '5000',
        MAX_LIST_ITEMS: '100',
        MAX_BODY_BYTES: '65536',
        MAX_UPLOAD_BYTES: '1048576',
        RATE_LIMIT_PER_MINUTE: '120',
        RATE_LIMIT_BURST: '20',
        MUTATION_RATE_LIMIT_PER_MINUTE: '30',
        MUTATION_RATE_LIMIT_BURST: '5',
        BATCH_LIMIT: '3',
        HTTP_HEADERS_TIMEOUT_MS: '5000',
        HTTP_REQUEST_TIMEOUT_MS: '20000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '3000',
        PERSISTED_OPERATIONS_ONLY: 'true',
      },
      'embedded',
      false,
    );
    expect('config' in result && result.config).toMatchObject({
      limits: { maxDepth: 8, maxAliases: 5, maxDirectives: 4, maxTokens: 500, maxCharacters: 4000, maxCost: 5000, maxListItems: 100 },
      http: { maxBodyBytes: 65536, maxFileBytes: 1048576, maxFiles: 1 },
      rateLimit: { requestsPerMinute: 120, requestBurst: 20, mutationsPerMinute: 30, mutationBurst: 5 },
      batching: 3,
      server: { headersTimeoutMs: 5000, requestTimeoutMs: 20000, keepAliveTimeoutMs: 3000 },
      persistedOperationsFile: 'examples/generated/persisted-documents.json',
    });
  });

  it('RATE_LIMIT_PER_MINUTE=0 and MUTATION_RATE_LIMIT_PER_MINUTE=0 turn rate limiting off', () => {
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0', MUTATION_RATE_LIMIT_PER_MINUTE: '0' }).security.rateLimit).toBe(false);
  });
});

describe('start-up (src/main.ts in a child process)', () => {
  const REPO = fileURLToPath(new URL('../..', import.meta.url));
  const ROOT_NAME = graphql(`query StartUpRootName { department(id: 1) { name } }`);

  it('refuses to start against real WeCom without a caller credential, naming what to set', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ENV_FILE: '/dev/null',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        ...REMOTE,
        WECOM_BASE_URL: 'http://127.0.0.1:9',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('refusing to start');
    expect(output).toContain('ALLOW_ANONYMOUS=true');
    expect(output).not.toContain('topsecret');
  });

  processTest('starts against real WeCom with ALLOW_ANONYMOUS=true, saying so loudly', async ({ startProcess }) => {
    const service = await startProcess({ ...REMOTE, WECOM_BASE_URL: 'http://127.0.0.1:9', ALLOW_ANONYMOUS: 'true' });
    expect(service.output).toContain('!! ANONYMOUS ACCESS');
    expect(service.output).toContain('because ALLOW_ANONYMOUS=true');
  });

  processTest('on the embedded emulator without keys, starts with anonymous full access and a loud warning', async ({ startProcess }) => {
    const service = await startProcess({ WECOM_EMULATOR_PORT: String(await freePort()) });
    expect(service.output).toContain(
      '!! ANONYMOUS ACCESS: requests without a credential are served with directory:read, directory:write, directory:pii, directory:admin',
    );
    const res = await service.execute(ROOT_NAME);
    expect(res.data?.department).toBeTruthy();
  });

  processTest('on the embedded emulator with keys, answers 401 without one and serves a key', async ({ startProcess }) => {
    const service = await startProcess({ WECOM_EMULATOR_PORT: String(await freePort()), API_KEYS: JSON.stringify([key.entry]) });
    expect(service.output).not.toContain('ANONYMOUS ACCESS');
    const refused = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(refused.status).toBe(401);
    const served = await service.execute(ROOT_NAME, {}, { 'x-api-key': key.key });
    expect(served.data?.department).toBeTruthy();
  });
});
