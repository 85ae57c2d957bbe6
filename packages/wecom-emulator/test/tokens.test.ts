import { describe, expect } from 'vitest';
import type { EmulatorHarness } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';
import { SALES_APP_AGENT_ID } from '../src/seed.ts';

const it = emulatorTest();

const gettoken = (wecom: EmulatorHarness, query: Record<string, string>) => wecom.call('gettoken', { query });
const fresh = async (wecom: EmulatorHarness, secret: string) => {
  const res = await gettoken(wecom, { corpid: wecom.creds.corpId, corpsecret: secret });
  expect(res.json.errcode).toBe(0);
  return res.json.access_token as string;
};
const advance = (wecom: EmulatorHarness, advanceSeconds: number) => wecom.admin('clock', 'POST', { advanceSeconds });
const deptCount = (wecom: EmulatorHarness) => wecom.emulator.store.departments.size;

describe('gettoken', () => {
  it('issues a token valid for 7200 s', async ({ wecom }) => {
    const res = await gettoken(wecom, { corpid: wecom.creds.corpId, corpsecret: wecom.creds.contactSecret });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(['access_token', 'errcode', 'errmsg', 'expires_in']);
    expect(res.json).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    expect(typeof res.json.access_token).toBe('string');
    expect(Buffer.byteLength(res.json.access_token)).toBeLessThanOrEqual(512);
    expect((await wecom.call('department/simplelist', { token: res.json.access_token })).json.errcode).toBe(0);
  });

  it('answers the same token within its validity, with the time left', async ({ wecom }) => {
    const first = await fresh(wecom, wecom.creds.contactSecret);
    await advance(wecom, 3600);
    const again = await gettoken(wecom, { corpid: wecom.creds.corpId, corpsecret: wecom.creds.contactSecret });
    expect(again.json.access_token).toBe(first);
    expect(again.json.expires_in).toBeLessThanOrEqual(3600);
    expect(again.json.expires_in).toBeGreaterThan(3590);
  });

  it('issues one token per secret', async ({ wecom }) => {
    const contact = await fresh(wecom, wecom.creds.contactSecret);
    const directory = await fresh(wecom, wecom.creds.app.secret);
    const sales = await fresh(wecom, wecom.creds.apps.find((a) => a.agentId === SALES_APP_AGENT_ID)!.secret);
    expect(new Set([contact, directory, sales]).size).toBe(3);
  });

  it('reports 41004 before 41002 when both are missing, then 41002, 40013 and 40001', async ({ wecom }) => {
    const { corpId, contactSecret } = wecom.creds;
    expect((await gettoken(wecom, {})).json).toMatchObject({ errcode: 41004 });
    expect((await gettoken(wecom, { corpid: corpId })).json.errcode).toBe(41004);
    expect((await gettoken(wecom, { corpsecret: contactSecret })).json.errcode).toBe(41002);
    expect((await gettoken(wecom, { corpid: 'wwnotacorp', corpsecret: contactSecret })).json.errcode).toBe(40013);
    expect((await gettoken(wecom, { corpid: corpId, corpsecret: 'wrong' })).json.errcode).toBe(40001);
    const failed = await gettoken(wecom, { corpid: corpId, corpsecret: 'wrong' });
    expect(failed.status).toBe(200);
    expect(failed.json.access_token).toBeUndefined();
  });
});

describe('token scope', () => {
  it('lets the contacts-sync token write and refuses writes to an app token (48002)', async ({ wecom }) => {
    const app = await fresh(wecom, wecom.creds.app.secret);
    const before = deptCount(wecom);
    const refused = await wecom.call('department/create', { token: app, body: { name: 'x', parentid: 1 } });
    expect(refused.json.errcode).toBe(48002);
    expect(deptCount(wecom)).toBe(before);
    const contact = await fresh(wecom, wecom.creds.contactSecret);
    expect((await wecom.call('department/create', { token: contact, body: { name: 'x', parentid: 1 } })).json.errcode).toBe(0);
    expect(deptCount(wecom)).toBe(before + 1);
  });
});

describe('access_token on API calls', () => {
  it('answers 41001 when the token is missing or empty', async ({ wecom }) => {
    expect((await wecom.call('department/simplelist')).json).toMatchObject({ errcode: 41001 });
    expect((await wecom.call('department/simplelist', { query: { access_token: '' } })).json.errcode).toBe(41001);
  });

  it('ignores a token in an Authorization header or in the JSON body (41001)', async ({ wecom }) => {
    const token = await wecom.contactToken();
    const header = await wecom.call('department/simplelist', { headers: { authorization: `Bearer ${token}` } });
    expect(header.json.errcode).toBe(41001);
    const before = deptCount(wecom);
    const body = await wecom.call('department/create', { body: { access_token: token, name: 'x', parentid: 1 } });
    expect(body.json.errcode).toBe(41001);
    expect(deptCount(wecom)).toBe(before);
  });

  it('answers 40014 for an unknown token and for a token of a previous seed', async ({ wecom }) => {
    expect((await wecom.call('department/simplelist', { token: 'not-a-token' })).json.errcode).toBe(40014);
    const old = await wecom.contactToken();
    await wecom.reset();
    expect((await wecom.call('department/simplelist', { token: old })).json.errcode).toBe(40014);
  });

  it('checks the token before the parameters', async ({ wecom }) => {
    expect((await wecom.call('department/get', { token: 'bogus', query: { id: 'abc' } })).json.errcode).toBe(40014);
    expect((await wecom.call('department/get', { query: { id: 'abc' } })).json.errcode).toBe(41001);
    const malformed = await wecom.call('department/create', { token: 'bogus', body: '{not json' });
    expect(malformed.json.errcode).toBe(40014);
    // the same bad parameters with a good token fail on the parameter
    expect((await wecom.asContact('department/get', { query: { id: 'abc' } })).json.errcode).toBe(60123);
  });
});

describe('expiry', () => {
  it('expires a token after 7200 s (42001) and issues a fresh working one', async ({ wecom }) => {
    const old = await fresh(wecom, wecom.creds.contactSecret);
    await advance(wecom, 7199);
    expect((await wecom.call('department/simplelist', { token: old })).json.errcode).toBe(0);
    await advance(wecom, 1);
    expect((await wecom.call('department/simplelist', { token: old })).json).toMatchObject({ errcode: 42001 });
    const res = await gettoken(wecom, { corpid: wecom.creds.corpId, corpsecret: wecom.creds.contactSecret });
    expect(res.json).toMatchObject({ errcode: 0, expires_in: 7200 });
    expect(res.json.access_token).not.toBe(old);
    expect((await wecom.call('department/simplelist', { token: res.json.access_token })).json.errcode).toBe(0);
    expect((await wecom.call('department/simplelist', { token: old })).json.errcode).toBe(42001);
  });

  it('expires every token issued so far on the expireTokens fault, once', async ({ wecom }) => {
    const contact = await fresh(wecom, wecom.creds.contactSecret);
    const app = await fresh(wecom, wecom.creds.app.secret);
    const res = await wecom.faults({ expireTokens: true });
    expect(res.status).toBe(200);
    expect(res.json.expireTokens).toBeUndefined();
    expect((await wecom.call('department/simplelist', { token: contact })).json.errcode).toBe(42001);
    expect((await wecom.call('department/simplelist', { token: app })).json.errcode).toBe(42001);
    const renewed = await fresh(wecom, wecom.creds.contactSecret);
    expect(renewed).not.toBe(contact);
    expect((await wecom.call('department/simplelist', { token: renewed })).json.errcode).toBe(0);
    // the fault is not lasting: the renewed token keeps working after another fault call
    await wecom.faults({ latencyMs: 0 });
    expect((await wecom.call('department/simplelist', { token: renewed })).json.errcode).toBe(0);
  });
});
