import { describe, expect } from 'vitest';
import { allSecrets, failure, makeClient } from './helpers.ts';
import { wecomTest } from '../testkit/wecom.ts';
import { createWeComClient } from '../../src/wecom/client.ts';
import { WeComApiError, WeComConfigError, isWeComConfigError } from '../../src/wecom/errors.ts';
import { DEFAULT_TOKEN_SAFETY_MARGIN_MS, LruTokenStore, type StoredToken, type TokenStore } from '../../src/wecom/token.ts';
import { TOKEN_EXPIRES_IN_SECONDS } from 'wecom-protocol/limits';

/** The token manager against the emulator: single flight, expiry, refresh-and-replay, config errors. */

const it = wecomTest();

describe('single flight', () => {
  it('1,000 concurrent calls with no token cause exactly 1 gettoken, and again after a forced expiry', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { app: false });
    try {
      const ids = Array.from({ length: 1000 }, (_, i) => 2 + (i % 30));
      const first = await Promise.all(ids.map((id) => client.departments.get(id)));
      expect(first.map((d) => d.id)).toEqual(ids);
      let stats = await emulator.stats();
      expect(stats.calls['/cgi-bin/gettoken']).toBe(1);
      expect(stats.calls['/cgi-bin/department/get']).toBe(1000);

      await emulator.faults({ expireTokens: true });
      await emulator.resetStats();
      const second = await Promise.all(ids.map((id) => client.departments.get(id)));
      expect(second.map((d) => d.id)).toEqual(ids);
      stats = await emulator.stats();
      expect(stats.calls['/cgi-bin/gettoken']).toBe(1);
      // Only the calls already in flight with the old token met 42001 (at most the endpoint's concurrency).
      expect(stats.errors['42001']).toBeGreaterThan(0);
      expect(stats.errors['42001']).toBeLessThanOrEqual(16);
      expect(stats.calls['/cgi-bin/department/get']).toBe(1000 + stats.errors['42001']!);
      expect(client.stats().endpoints['/cgi-bin/department/get']!.retries['token-expired']).toBe(stats.errors['42001']);
    } finally {
      await client.close();
    }
  });

  it('a token WeCom no longer knows (40014) is refetched once and the call replayed once', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { app: false });
    try {
      await client.departments.get(2);
      await emulator.reset(); // a new corp state: the cached token is unknown now
      const dept = await client.departments.get(2);
      expect(dept.id).toBe(2);
      const stats = await emulator.stats();
      expect(stats.errors['40014']).toBe(1);
      expect(stats.calls['/cgi-bin/gettoken']).toBe(1);
      expect(stats.calls['/cgi-bin/department/get']).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('a token refused again after the replay is an error, not a loop', async ({ emulator, watch }) => {
    // A store that keeps handing out the same dead token (as a broken shared store would).
    const stuck: TokenStore = {
      get: () => ({ accessToken: 'dead-token-0123456789', expiresAtMs: Date.now() + 3_600_000 }),
      set: () => undefined,
      deleteIf: () => undefined,
    };
    const client = makeClient(emulator, watch, { app: false, options: { tokenStore: stuck } });
    try {
      const err = await failure(watch, client.departments.get(2));
      expect(err).toBeInstanceOf(WeComApiError);
      expect((err as WeComApiError).errcode).toBe(40014);
      const stats = await emulator.stats();
      expect(stats.calls['/cgi-bin/department/get']).toBe(2);
      expect(stats.calls['/cgi-bin/gettoken']).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});

describe('cache', () => {
  it('keeps a token for expires_in minus the safety margin', async ({ emulator, watch }) => {
    let offsetMs = 0;
    const client = makeClient(emulator, watch, { app: false, options: { now: () => Date.now() + offsetMs } });
    try {
      await client.departments.get(2);
      offsetMs = TOKEN_EXPIRES_IN_SECONDS * 1000 - DEFAULT_TOKEN_SAFETY_MARGIN_MS - 5_000;
      await client.departments.get(2);
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(1);
      offsetMs = TOKEN_EXPIRES_IN_SECONDS * 1000 - DEFAULT_TOKEN_SAFETY_MARGIN_MS + 5_000;
      await client.departments.get(2);
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(2);
      expect(client.stats().tokenRefreshes.contact).toEqual({ ok: 2, failed: 0 });
    } finally {
      await client.close();
    }
  });

  it('a shared store serves several clients with one token per secret', async ({ emulator, watch }) => {
    const store = new LruTokenStore();
    const seen: string[] = [];
    const spy: TokenStore = {
      get: (k) => store.get(k),
      set: (k, t: StoredToken) => {
        seen.push(k);
        store.set(k, t);
      },
      deleteIf: (k, t) => store.deleteIf(k, t),
    };
    const a = makeClient(emulator, watch, { app: false, options: { tokenStore: spy } });
    const b = makeClient(emulator, watch, { app: false, options: { tokenStore: spy } });
    try {
      await a.departments.get(2);
      await b.departments.get(3);
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(1);
      // Store keys are hashes: a shared store never sees the secret.
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^wecom:token:[0-9a-f]{32}$/);
      expect(seen[0]).not.toContain(emulator.creds.contactSecret);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('each secret has its own token', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch);
    try {
      await client.departments.get(2); // app
      await client.users.listIds({ limit: 1 }); // contacts sync
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(2);
      expect(Object.keys(client.stats().tokenRefreshes).sort()).toEqual(['app', 'contact']);
    } finally {
      await client.close();
    }
  });
});

describe('configuration errors', () => {
  it('a wrong secret is a WeComConfigError (40001): one gettoken for 50 callers, none while it is remembered', async ({
    emulator,
    watch,
  }) => {
    const client = createWeComClient({
      baseUrl: emulator.url,
      corpId: emulator.creds.corpId,
      secrets: { contact: 'wrong-secret-0123456789abcdef' },
      dispatcher: watch.dispatcher(emulator.url),
      logger: watch.logger,
    });
    try {
      const errors = await Promise.all(Array.from({ length: 50 }, () => failure(watch, client.departments.get(2))));
      for (const err of errors) {
        expect(isWeComConfigError(err)).toBe(true);
        expect((err as WeComConfigError).errcode).toBe(40001);
        expect((err as WeComConfigError).message).not.toContain('wrong-secret-0123456789abcdef');
      }
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(1);
      await failure(watch, client.departments.get(3));
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(1);
      expect((await emulator.stats()).calls['/cgi-bin/department/get']).toBeUndefined();
      watch.lines.push(...errors.map(String));
      for (const line of watch.lines) expect(line).not.toContain('wrong-secret-0123456789abcdef');
    } finally {
      await client.close();
    }
  });

  it('a wrong corpid is a WeComConfigError (40013) with a hint naming the variable', async ({ emulator, watch }) => {
    const client = createWeComClient({
      baseUrl: emulator.url,
      corpId: 'ww_not_this_corp',
      secrets: { contact: emulator.creds.contactSecret },
      dispatcher: watch.dispatcher(emulator.url),
      logger: watch.logger,
    });
    try {
      const err = await failure(watch, client.users.get('yujing'));
      expect((err as WeComConfigError).errcode).toBe(40013);
      expect((err as WeComConfigError).message).toContain('WECOM_CORP_ID');
      expect((await emulator.stats()).calls['/cgi-bin/gettoken']).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('a client needs a corp id and at least one secret', () => {
    expect(() => createWeComClient({ corpId: '', secrets: { contact: 'x' } })).toThrow(WeComConfigError);
    expect(() => createWeComClient({ corpId: 'ww1', secrets: {} })).toThrow(WeComConfigError);
  });
});

it('no error or log line of this file contains a secret or a token', ({ emulator, watch }) => {
  watch.assertClean(allSecrets(emulator));
});
