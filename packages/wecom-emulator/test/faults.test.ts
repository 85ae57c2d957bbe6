import { describe, expect } from 'vitest';
import type { EmulatorHarness } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';

const it = emulatorTest(
  {},
  {
    // Tokens first: faults apply to gettoken as well.
    beforeEach: async (wecom) => {
      await wecom.contactToken();
      await wecom.appToken();
    },
  },
);

const SIMPLELIST = '/cgi-bin/department/simplelist';
const simplelist = (wecom: EmulatorHarness) => wecom.asContact('department/simplelist');
const timed = async <T>(act: () => Promise<T>): Promise<{ ms: number; result: T }> => {
  const start = performance.now();
  const result = await act();
  return { ms: performance.now() - start, result };
};

describe('latency', () => {
  it('delays every answer by about latencyMs (± jitterMs)', async ({ wecom }) => {
    // Wide margins: these machines are shared, so only the injected delay itself is told apart.
    const fast = await timed(() => simplelist(wecom));
    expect(fast.ms).toBeLessThan(1_000);
    expect((await wecom.faults({ latencyMs: 1_200 })).status).toBe(200);
    const slow = await timed(() => simplelist(wecom));
    expect(slow.result.json.errcode).toBe(0);
    expect(slow.ms).toBeGreaterThanOrEqual(1_190);
    expect(slow.ms).toBeLessThan(5_000);
    await wecom.faults({ latencyMs: 100, jitterMs: 50 });
    for (let i = 0; i < 5; i++) {
      const { ms } = await timed(() => simplelist(wecom));
      expect(ms).toBeGreaterThanOrEqual(45);
      expect(ms).toBeLessThan(2000);
    }
  });
});

describe('rate limit', () => {
  it('answers 45009 on that path only, until the minute is over', async ({ wecom }) => {
    await wecom.faults({ rateLimitPerMinute: { [SIMPLELIST]: 3 } });
    for (let i = 0; i < 3; i++) expect((await simplelist(wecom)).json.errcode).toBe(0);
    const limited = await simplelist(wecom);
    expect(limited.status).toBe(200);
    expect(limited.json.errcode).toBe(45009);
    expect(limited.json.errmsg).toMatch(/^api freq out of limit/);
    expect((await wecom.asContact('department/list')).json.errcode).toBe(0);
    expect((await wecom.asApp('department/simplelist')).json.errcode).toBe(45009);

    // Short of the minute by a margin: real seconds also pass on a busy machine.
    await wecom.admin('clock', 'POST', { advanceSeconds: 50 });
    expect((await simplelist(wecom)).json.errcode).toBe(45009);
    await wecom.admin('clock', 'POST', { advanceSeconds: 10 });
    expect((await simplelist(wecom)).json.errcode).toBe(0);
    expect((await wecom.stats()).errors['45009']).toBe(3);
  });
});

describe('concurrency cap', () => {
  it('answers 45033 to requests beyond the cap while others are in flight', async ({ wecom }) => {
    await wecom.faults({ latencyMs: 300, concurrencyLimit: { [SIMPLELIST]: 2 } });
    const answers = await Promise.all([...Array.from({ length: 5 }, () => simplelist(wecom)), wecom.asContact('department/list')]);
    const codes = answers
      .slice(0, 5)
      .map((r) => r.json.errcode)
      .sort((a, b) => a - b);
    expect(codes).toEqual([0, 0, 45033, 45033, 45033]);
    expect(answers[5]!.json.errcode).toBe(0);
    // the slots are free again once the calls are answered
    expect((await simplelist(wecom)).json.errcode).toBe(0);
  });
});

describe('concurrency cap across a reset', () => {
  it('does not let a call that started before a reset free a slot of the new settings', async ({ wecom }) => {
    await wecom.faults({ latencyMs: 300, concurrencyLimit: { [SIMPLELIST]: 1 } });
    const beforeReset = simplelist(wecom);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await wecom.reset();
    const token = await wecom.contactToken();
    await wecom.faults({ latencyMs: 600, concurrencyLimit: { [SIMPLELIST]: 1 } });
    const holding = wecom.call('department/simplelist', { token });
    // the pre-reset call finishes while `holding` still holds the only slot
    await beforeReset;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await wecom.call('department/simplelist', { token })).json.errcode).toBe(45033);
    expect((await holding).json.errcode).toBe(0);
  });
});

describe('error rates', () => {
  it('answers errcode -1 (system busy) with HTTP 200', async ({ wecom }) => {
    await wecom.faults({ errorRate: { '-1': 1 } });
    const res = await simplelist(wecom);
    expect(res.status).toBe(200);
    expect(res.json.errcode).toBe(-1);
    expect((await wecom.stats()).errors['-1']).toBe(1);
  });

  it('answers HTTP 502 with an HTML body', async ({ wecom }) => {
    await wecom.faults({ errorRate: { '502': 1 } });
    const res = await simplelist(wecom);
    expect(res.status).toBe(502);
    expect(res.text).toMatch(/^<html>.*502 Bad Gateway/);
    expect(res.json).toEqual({});
    expect((await wecom.stats()).httpErrors['502']).toBe(1);
  });

  it('never answers a hanging request', async ({ wecom }) => {
    await wecom.faults({ errorRate: { hang: 1 } });
    const url = new URL('/cgi-bin/department/simplelist', wecom.url);
    url.searchParams.set('access_token', await wecom.contactToken());
    const abort = AbortSignal.timeout(400);
    const started = performance.now();
    await expect(fetch(url, { signal: abort })).rejects.toThrow(/abort|timeout/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect((await wecom.stats()).hangs).toBe(1);
  });

  it('draws partial rates from the seed: about that fraction fails', async ({ wecom }) => {
    await wecom.faults({ errorRate: { '-1': 0.5 } });
    const codes = [];
    for (let i = 0; i < 200; i++) codes.push((await simplelist(wecom)).json.errcode);
    const busy = codes.filter((c) => c === -1).length;
    expect(busy).toBeGreaterThan(60);
    expect(busy).toBeLessThan(140);
    expect(codes.every((c) => c === 0 || c === -1)).toBe(true);
  });
});

describe('DELETE /__emulator/faults', () => {
  it('clears every fault and puts the 2022 options back', async ({ wecom }) => {
    // A latency far above any scheduling noise, so "cleared" is told apart on a busy machine.
    await wecom.faults({
      latencyMs: 3_000,
      rateLimitPerMinute: { [SIMPLELIST]: 0 },
      concurrencyLimit: { [SIMPLELIST]: 0 },
      errorRate: { '-1': 1 },
      restrictContactReads: true,
      withholdSensitiveFields: true,
    });
    expect((await simplelist(wecom)).json.errcode).not.toBe(0);
    expect((await wecom.admin('faults', 'DELETE')).status).toBe(200);
    expect((await wecom.admin('faults')).json).toEqual({});
    const { ms, result } = await timed(() => simplelist(wecom));
    expect(result.json.errcode).toBe(0);
    expect(ms).toBeLessThan(1_500);
    expect((await wecom.asContact('department/list')).json.errcode).toBe(0);
    expect(wecom.emulator.options.withholdSensitiveFields).toBe(false);
  });
});

describe('invalid fault settings', () => {
  it.for([
    [{ latencyMs: -5 }, 'latencyMs'],
    [{ jitterMs: 'lots' }, 'jitterMs'],
    [{ errorRate: { '503': 0.1 } }, '503'],
    [{ errorRate: { '-1': 2 } }, 'errorRate.-1'],
    [{ rateLimitPerMinute: { '/user/get': 5 } }, 'rateLimitPerMinute'],
    [{ concurrencyLimit: { [SIMPLELIST]: 'a' } }, 'concurrencyLimit'],
    [{ expireTokens: 'yes' }, 'expireTokens'],
    [{ bogus: 1 }, 'bogus'],
  ] as [Record<string, unknown>, string][])('answers 400 naming the field for %j and applies nothing', async ([body, field], { wecom }) => {
    const res = await wecom.faults({ latencyMs: 500, ...body });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(field);
    expect((await wecom.admin('faults')).json).toEqual({});
    expect((await simplelist(wecom)).json.errcode).toBe(0);
  });

  it('answers 400 for a body that is not JSON', async ({ wecom }) => {
    const res = await wecom.admin('faults', 'POST', '{latency');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/JSON/);
  });
});

describe('the 2022 restrictions', () => {
  it('restrictContactReads refuses the listed reads to the contacts-sync secret only, and can be switched off', async ({ wecom }) => {
    await wecom.faults({ restrictContactReads: true });
    expect((await wecom.asContact('department/list')).json.errcode).toBe(48002);
    expect((await wecom.asContact('department/get', { query: { id: 1 } })).json.errcode).toBe(48002);
    expect((await wecom.asContact('department/simplelist')).json.errcode).toBe(0);
    expect((await wecom.asApp('department/list')).json.errcode).toBe(0);
    await wecom.faults({ restrictContactReads: false });
    expect((await wecom.asContact('department/list')).json.errcode).toBe(0);
  });

  it('withholdSensitiveFields withholds the 2022-06-20 fields from app tokens only, and can be switched off', async ({ wecom }) => {
    const user = [...wecom.emulator.store.users.values()].find((u) => u.address && u.mobile && u.email)!;
    const get = (as: 'contact' | 'app') =>
      as === 'contact'
        ? wecom.asContact('user/get', { query: { userid: user.userid } })
        : wecom.asApp('user/get', { query: { userid: user.userid } });
    const sensitive = ['mobile', 'email', 'biz_mail', 'avatar', 'thumb_avatar', 'address', 'qr_code'];
    const full = (await get('app')).json;
    expect(full).toMatchObject({ errcode: 0, mobile: user.mobile, email: user.email, address: user.address, gender: user.gender });

    await wecom.faults({ withholdSensitiveFields: true });
    const withheld = (await get('app')).json;
    expect(withheld.errcode).toBe(0);
    for (const field of sensitive) expect(withheld[field]).toBeUndefined();
    expect(withheld.gender).toBe('0');
    expect(withheld.name).toBe(user.name);
    expect((await get('contact')).json).toMatchObject({ mobile: user.mobile, email: user.email, gender: user.gender });

    await wecom.faults({ withholdSensitiveFields: false });
    expect((await get('app')).json).toEqual(full);
  });
});
