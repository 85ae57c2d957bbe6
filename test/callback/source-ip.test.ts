import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { type CallbackSender, send } from '../helpers/callback-sender.ts';
import { callbackSender, callbackTest } from '../testkit/callback.ts';
import { ownServiceTest, type StartService } from '../testkit/service.ts';
import type { DirectoryChange } from '../../src/directory/changes.ts';
import type { AllowedCallbackIps } from '../../src/callback/source-ip.ts';
import { CALLBACK_IPS_REFRESH_MS, CallbackSourceCheck } from '../../src/callback/source-ip.ts';
import type { EmulatorOptions } from 'wecom-emulator';

/**
 * /wecom/callback limited to WeCom's addresses (WECOM_CALLBACK_ALLOWED_IPS) over a real socket.
 * The test's requests come from 127.0.0.1, as the emulator's own deliveries do.
 */

interface Started {
  service: ServiceHarness;
  sender: CallbackSender;
  published: DirectoryChange[];
}

/** Each test starts the service it needs (`start`), closed when the test ends. */
const it = ownServiceTest;

/** A service of the test's own on a loopback port. */
async function start(
  startService: StartService,
  allowedIps: AllowedCallbackIps,
  trustedProxies: string[] = [],
  emulator: Partial<EmulatorOptions> = {},
): Promise<Started> {
  const service = await startService({ emulator, callback: { allowedIps, trustedProxies }, listen: true });
  const published: DirectoryChange[] = [];
  service.changes.subscribe((c) => published.push(c));
  return { service, sender: callbackSender(service), published };
}

const rename = (sender: CallbackSender, userid: string) => sender.changeContact('update_user', { UserID: userid, Name: '新名字' });
const someUserid = async (s: ServiceHarness) =>
  (await s.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[3].userid as string;

describe("WECOM_CALLBACK_ALLOWED_IPS=auto (WeCom's getcallbackip list)", () => {
  it("accepts the emulator's own deliveries (loopback, its getcallbackip answer), reading the list once", async ({ startService }) => {
    const { service, published } = await start(startService, { mode: 'auto' });
    const { callback } = service.wecom.creds;
    expect(
      (
        await service.wecom.admin('callback', 'POST', {
          url: `${service.url}/wecom/callback`,
          token: callback.token,
          encodingAESKey: callback.encodingAESKey,
        })
      ).status,
    ).toBe(200);
    const userid = await someUserid(service);
    expect((await service.wecom.console('user/update', { userid, position: '顾问' })).json.errcode).toBe(0);
    await expect.poll(() => published.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(published[0]).toMatchObject({ kind: 'USER_UPDATED', userid });
    expect((await service.calls())['/cgi-bin/getcallbackip']).toBe(1);
  });

  it('refuses a correctly signed request from an address outside the list with 403, and processes nothing', async ({ startService }) => {
    const { service, sender, published } = await start(startService, { mode: 'auto' }, [], {
      callbackIps: ['101.226.103.*', '101.226.62.*'],
    });
    const userid = await someUserid(service);
    expect(await send(service.url, sender.post(rename(sender, userid)))).toEqual({ status: 403, text: 'forbidden_source' });
    expect(await send(service.url, sender.verification('8147297539112093'), 'GET')).toEqual({ status: 403, text: 'forbidden_source' });
    // the signature is checked first: a forged request learns nothing about the address check
    expect(await send(service.url, sender.post(rename(sender, userid), { token: 'forgedToken1' }))).toEqual({
      status: 403,
      text: 'bad_signature',
    });
    await service.app.callback!.idle();
    expect(published).toEqual([]);
    expect(service.app.callback!.stats().rejected).toEqual({ forbidden_source: 2, bad_signature: 1 });
    expect((await service.calls())['/cgi-bin/getcallbackip']).toBe(1);
  });

  it("answers 503 while WeCom's list cannot be read (WeCom retries), and processes nothing", async ({ startService }) => {
    const { service, sender, published } = await start(startService, { mode: 'auto' });
    await service.wecom.faults({ rateLimitPerMinute: { '/cgi-bin/getcallbackip': 0 } });
    const userid = await someUserid(service);
    expect(await send(service.url, sender.post(rename(sender, userid)))).toEqual({ status: 503, text: 'source_list_unavailable' });
    await service.app.callback!.idle();
    expect(published).toEqual([]);
    expect((await service.wecom.stats()).errors['45009']).toBeGreaterThan(0);
  });

  it('re-reads the list after a day, and keeps serving the old one meanwhile', async ({ startService }) => {
    const { service } = await start(startService, { mode: 'auto' });
    let now = 1_000_000;
    const check = new CallbackSourceCheck({
      allowed: { mode: 'auto' },
      fetchList: () => service.client.corp.getCallbackIp(),
      now: () => now,
    });
    const from = (address: string) =>
      ({ socket: { remoteAddress: address }, connection: { remoteAddress: address }, headers: {} }) as never;
    await service.wecom.resetStats();
    expect(await check.verdict(from('127.0.0.1'))).toBe('allowed');
    expect(await check.verdict(from('::ffff:127.0.0.1'))).toBe('allowed');
    expect(await check.verdict(from('10.0.0.1'))).toBe('refused');
    now += CALLBACK_IPS_REFRESH_MS - 1;
    expect(await check.verdict(from('127.0.0.1'))).toBe('allowed');
    expect((await service.calls())['/cgi-bin/getcallbackip']).toBe(1);
    now += 1;
    expect(await check.verdict(from('127.0.0.1'))).toBe('allowed');
    await expect.poll(async () => (await service.calls())['/cgi-bin/getcallbackip']).toBe(2);
  });
});

/** A service shared by the tests that only send to it: ranges, no trusted proxy. */
const itPlain = callbackTest(
  { callback: { allowedIps: { mode: 'list', ranges: ['10.0.0.0/8'] }, trustedProxies: [] } },
  { resetStats: false },
);

describe('WECOM_CALLBACK_ALLOWED_IPS as ranges, with TRUSTED_PROXIES', () => {
  itPlain(
    "ignores X-Forwarded-For from a proxy that is not trusted: the socket's address (loopback) is refused",
    async ({ service, sender, published }) => {
      const userid = await someUserid(service);
      expect(await send(service.url, sender.post(rename(sender, userid)), 'POST', { 'x-forwarded-for': '10.1.2.3' })).toEqual({
        status: 403,
        text: 'forbidden_source',
      });
      await service.app.callback!.idle();
      expect(published).toEqual([]);
      expect((await service.calls())['/cgi-bin/getcallbackip'] ?? 0).toBe(0);
    },
  );

  it('takes the sender from X-Forwarded-For when the socket is a trusted proxy', async ({ startService }) => {
    const { service, sender, published } = await start(startService, { mode: 'list', ranges: ['10.0.0.0/8'] }, ['127.0.0.1/32', '::1/128']);
    const userid = await someUserid(service);
    expect(await send(service.url, sender.post(rename(sender, userid)), 'POST', { 'x-forwarded-for': '10.1.2.3' })).toEqual({
      status: 200,
      text: 'success',
    });
    await service.app.callback!.idle();
    expect(published).toEqual([expect.objectContaining({ kind: 'USER_UPDATED', userid })]);
    // a client cannot prepend an allowed address: the nearest untrusted hop counts
    expect(await send(service.url, sender.post(rename(sender, userid)), 'POST', { 'x-forwarded-for': '10.9.9.9, 203.0.113.7' })).toEqual({
      status: 403,
      text: 'forbidden_source',
    });
    expect(await send(service.url, sender.post(rename(sender, userid)))).toEqual({ status: 403, text: 'forbidden_source' });
  });
});
