import { describe, expect } from 'vitest';
import type { EmulatorHarness } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';

const it = emulatorTest();

const deptIds = async (wecom: EmulatorHarness) =>
  ((await wecom.console('department/simplelist')).json.department_id as { id: number }[]).map((d) => d.id);
const raw = (wecom: EmulatorHarness, path: string, init: RequestInit = {}) => fetch(new URL(path, wecom.url), init);

describe('GET /__emulator/stats', () => {
  it('starts empty after a reset', async ({ wecom }) => {
    expect(await wecom.stats()).toMatchObject({ total: 0, calls: {}, errors: {} });
  });

  it('counts every /cgi-bin/ call by path, gettoken and unknown paths included', async ({ wecom }) => {
    await wecom.asContact('department/list');
    await wecom.asContact('department/list');
    await wecom.asContact('no/such/api');
    const stats = await wecom.stats();
    expect(stats).toMatchObject({
      total: 4,
      calls: { '/cgi-bin/gettoken': 1, '/cgi-bin/department/list': 2, '/cgi-bin/no/such/api': 1 },
      errors: {},
    });
    expect(Object.keys(stats.calls)).toHaveLength(3);
  });

  it('counts non-zero errcodes by errcode, gettoken failures included', async ({ wecom }) => {
    await wecom.asContact('department/get', { query: { id: 424242 } });
    await wecom.asContact('department/get', { query: { id: 434343 } });
    await wecom.call('department/get', { token: 'bogus', query: { id: 1 } });
    await wecom.call('gettoken', { query: { corpid: wecom.creds.corpId, corpsecret: 'wrong' } });
    await wecom.asContact('department/get', { query: { id: 1 } });
    const stats = await wecom.stats();
    expect(stats.errors).toEqual({ '60003': 2, '40014': 1, '40001': 1 });
    expect(stats.total).toBe(6);
  });

  it('does not count admin-console calls, successful or not', async ({ wecom }) => {
    expect((await wecom.console('department/create', { name: 'Console', parentid: 1 })).json.errcode).toBe(0);
    expect((await wecom.console('department/get', { id: 424242 })).json.errcode).toBe(60003);
    expect(await wecom.stats()).toMatchObject({ total: 0, calls: {}, errors: {} });
  });
});

describe('POST /__emulator/stats/reset', () => {
  it('zeroes the counters and nothing else', async ({ wecom }) => {
    const created = await wecom.asContact('department/create', { body: { name: 'Kept', parentid: 1 } });
    await wecom.asContact('department/get', { query: { id: 424242 } });
    expect((await wecom.stats()).total).toBe(3);
    expect((await wecom.admin('stats/reset', 'POST')).status).toBe(200);
    expect(await wecom.stats()).toMatchObject({ total: 0, calls: {}, errors: {} });
    expect(await deptIds(wecom)).toContain(created.json.id);
  });
});

describe('POST /__emulator/reset', () => {
  it('reseeds the directory, clears faults and zeroes the stats', async ({ wecom }) => {
    const seeded = await deptIds(wecom);
    const created = await wecom.asContact('department/create', { body: { name: 'Temporary', parentid: 1 } });
    expect(created.json.errcode).toBe(0);
    expect(await deptIds(wecom)).toContain(created.json.id);
    await wecom.faults({ latencyMs: 3_000, errorRate: { '-1': 1 }, restrictContactReads: true });

    expect((await wecom.admin('reset', 'POST')).status).toBe(200);
    expect(await deptIds(wecom)).toEqual(seeded);
    expect((await wecom.admin('faults')).json).toEqual({});
    expect(await wecom.stats()).toMatchObject({ total: 0, calls: {}, errors: {} });
    await wecom.reset(); // drops the harness's cached tokens, which died with the old corp
    const start = performance.now();
    expect((await wecom.asContact('department/list')).json.errcode).toBe(0);
    // The 3 s latency is gone (a wide margin: these machines are shared).
    expect(performance.now() - start).toBeLessThan(1_500);
  });
});

describe('transport errors', () => {
  it('answers unknown /cgi-bin/ paths with 404 and an empty body, whatever the method', async ({ wecom }) => {
    const get = await raw(wecom, '/cgi-bin/user/nothing');
    expect(get.status).toBe(404);
    expect(await get.text()).toBe('');
    const post = await raw(wecom, '/cgi-bin/user/nothing?access_token=x', {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(404);
    expect(await post.text()).toBe('');
    const outside = await raw(wecom, '/somewhere/else');
    expect(outside.status).toBe(404);
    expect(await outside.text()).toBe('');
  });

  it('answers malformed JSON with 40058 and changes nothing', async ({ wecom }) => {
    const before = await deptIds(wecom);
    const res = await wecom.asContact('department/create', { body: '{"name": "x", "parentid": 1' });
    expect(res.status).toBe(200);
    expect(res.json.errcode).toBe(40058);
    const notObject = await wecom.asContact('department/create', { body: '[1,2]' });
    expect(notObject.json.errcode).toBe(40058);
    expect(await deptIds(wecom)).toEqual(before);
    expect((await wecom.stats()).errors).toEqual({ '40058': 2 });
  });

  it('refuses a body with a \\uXXXX escape with 40033 and changes nothing', async ({ wecom }) => {
    const before = await deptIds(wecom);
    const res = await wecom.asContact('department/create', { body: '{"name":"\\u4e2d\\u6587","parentid":1}' });
    expect(res.json.errcode).toBe(40033);
    expect(await deptIds(wecom)).toEqual(before);
    // the same name sent as raw UTF-8 is fine
    const ok = await wecom.asContact('department/create', { body: '{"name":"中文","parentid":1}' });
    expect(ok.json.errcode).toBe(0);
  });
});

describe('the admin API is JSON, and only JSON', () => {
  const consoleUpdate = (wecom: EmulatorHarness, body: string, contentType?: string) =>
    raw(wecom, '/__emulator/console/department/update', {
      method: 'POST',
      body,
      headers: contentType ? { 'content-type': contentType } : {},
    });

  it('takes any valid JSON: \\uXXXX escapes (what Python and many encoders send) are not WeCom API traffic', async ({ wecom }) => {
    const res = await consoleUpdate(wecom, '{"id": 2, "name": "\\u65b0\\u540d\\u5b57"}', 'application/json; charset=utf-8');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ errcode: 0, errmsg: 'updated' });
    expect((await wecom.console('department/get', { id: 2 })).json.department.name).toBe('新名字');
    const faults = await raw(wecom, '/__emulator/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"rateLimitPerMinute": {"/cgi-bin/user/\\u0067et": 7}}',
    });
    expect(faults.status).toBe(200);
    expect((await wecom.admin('faults')).json.rateLimitPerMinute).toEqual({ '/cgi-bin/user/get': 7 });
  });

  it.for([
    ['text/plain (an HTML form with enctype text/plain)', 'text/plain'],
    ['a urlencoded form post', 'application/x-www-form-urlencoded'],
    ['no Content-Type', undefined],
    ['a JSON look-alike', 'application/jsonp'],
  ])('refuses a change sent as %s with 415, and changes nothing', async ([_label, contentType], { wecom }) => {
    const before = (await wecom.console('department/get', { id: 2 })).json.department.name;
    const res = await consoleUpdate(wecom, '{"id": 2, "name": "hijacked"}', contentType);
    expect(res.status).toBe(415);
    expect((await res.json()).error).toContain('application/json');
    expect((await wecom.console('department/get', { id: 2 })).json.department.name).toBe(before);
    // bodiless admin changes too: a page could reseed or clear faults with an empty POST
    await wecom.faults({ latencyMs: 1 });
    const reset = await raw(wecom, '/__emulator/reset', {
      method: 'POST',
      ...(contentType ? { headers: { 'content-type': contentType } } : {}),
    });
    expect(reset.status).toBe(415);
    const clear = await raw(wecom, '/__emulator/faults', {
      method: 'DELETE',
      ...(contentType ? { headers: { 'content-type': contentType } } : {}),
    });
    expect(clear.status).toBe(415);
    expect((await wecom.admin('faults')).json.latencyMs).toBe(1);
  });

  it('still answers reads without a Content-Type', async ({ wecom }) => {
    expect((await raw(wecom, '/__emulator/credentials')).status).toBe(200);
    expect((await raw(wecom, '/__emulator/stats')).status).toBe(200);
  });
});
