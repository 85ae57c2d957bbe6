import { request } from 'node:http';
import { describe, expect } from 'vitest';
import * as official from '@wecom/crypto';
import { type CallbackSender, nowSeconds, send, type SignedRequest } from '../helpers/callback-sender.ts';
import { graphql } from '../generated/index.ts';
import { callbackTest, deliverCallbacks } from '../testkit/callback.ts';
import { startServiceFixture } from '../testkit/service.ts';

/**
 * /wecom/callback over a real socket: URL verification, and every way a request is refused. Each
 * refusal is checked to change nothing: no change published, no cache entry dropped (the next
 * query costs no WeCom call), the change feed where it was. Requests are built with the official
 * @wecom/crypto package, not with the code under test.
 */

const QUERY = graphql(`
  query EndpointTree {
    department(id: 1) { children { name members(first: 100) { nodes { userid name } } } }
  }
`);

/**
 * The file's service (its stats counted across tests) with `member`, the member the events are
 * about, and the file's helpers as fixtures, bound to the service and to the changes it
 * `published` during the test: `renameEvent`, `refused`, `accepted`. `startService` for a service
 * without a callback.
 */
const it = callbackTest({ cache: { ttlMs: 600_000, staleMs: 0 } }, { resetStats: false })
  .extend('member', { scope: 'file' }, async ({ execute }) => (await execute(QUERY)).data!.department!.children[0]!.members.nodes[0]!)
  /** A well-formed, authentic update_user event about `member`. */
  .extend(
    'renameEvent',
    { scope: 'file' },
    ({ sender, member }) =>
      (name = '新名字') =>
        sender.changeContact('update_user', { UserID: member.userid, Name: name }),
  )
  /** Sends the request and checks the answer, then that nothing changed. */
  .extend(
    'refused',
    ({ service, execute, published }) =>
      async (req: SignedRequest, status: number, reason: string, method: 'GET' | 'POST' | 'PUT' = 'POST') => {
        await execute(QUERY); // warm
        await service.wecom.resetStats();
        const cursor = service.app.feed.latestCursor();
        const invalidations = service.app.cache!.stats().invalidations;

        const res = await send(service.url, req, method);
        expect(res).toEqual({ status, text: reason });

        await service.app.callback!.idle();
        await new Promise((r) => setImmediate(r));
        expect(published).toEqual([]);
        expect(service.app.feed.latestCursor()).toBe(cursor);
        expect(service.app.cache!.stats().invalidations).toBe(invalidations);
        await execute(QUERY);
        expect((await service.wecom.stats()).total).toBe(0);
      },
  )
  /** Sends an accepted request and waits until it has been processed. */
  .extend('accepted', { scope: 'file' }, ({ service }) => async (req: SignedRequest) => {
    const res = await send(service.url, req);
    expect(res).toEqual({ status: 200, text: 'success' });
    await service.app.callback!.idle();
  })
  .extend('startService', startServiceFixture);

describe('URL verification (GET)', () => {
  it('answers exactly the decrypted echostr', async ({ service, sender }) => {
    const res = await send(service.url, sender.verification('8147297539112093'), 'GET');
    expect(res).toEqual({ status: 200, text: '8147297539112093' });
  });

  it('passes the emulator’s own verification when its callback is pointed at the service', async ({ service }) => {
    await deliverCallbacks(service);
    await service.wecom.admin('callback', 'POST', { url: null });
  });

  it.for<[string, (sender: CallbackSender) => SignedRequest, number, string]>([
    ['a forged signature', (sender) => sender.verification('123', { signature: 'f'.repeat(40) }), 403, 'bad_signature'],
    ['another token', (sender) => sender.verification('123', { token: 'SomeoneElse' }), 403, 'bad_signature'],
    ['a stale timestamp', (sender) => sender.verification('123', { timestamp: nowSeconds() - 301 }), 403, 'stale_timestamp'],
    ['another corp’s receiveid', (sender) => sender.verification('123', { receiveId: 'wwsomeoneelse' }), 403, 'wrong_receiveid'],
    [
      'no echostr',
      (sender) => ({ ...sender.verification('123'), query: { ...sender.verification('123').query, echostr: undefined } }),
      400,
      'missing_parameters',
    ],
  ])('refuses %s', async ([_what, build, status, reason], { sender, refused }) => {
    await refused(build(sender), status, reason, 'GET');
  });
});

describe('events (POST): refusals change nothing', () => {
  it('refuses a forged signature', async ({ sender, renameEvent, refused }) => {
    await refused(sender.post(renameEvent(), { signature: official.getSignature('x', '1', '2', 'y') }), 403, 'bad_signature');
  });

  it('refuses a signature made with another token', async ({ sender, renameEvent, refused }) => {
    await refused(sender.post(renameEvent(), { token: 'AnotherToken1' }), 403, 'bad_signature');
  });

  it('refuses a timestamp more than five minutes old or ahead', async ({ sender, renameEvent, refused }) => {
    await refused(sender.post(renameEvent(), { timestamp: nowSeconds() - 301 }), 403, 'stale_timestamp');
    await refused(sender.post(renameEvent(), { timestamp: nowSeconds() + 301 }), 403, 'stale_timestamp');
  });

  it('refuses a timestamp that is not a number', async ({ sender, renameEvent, refused }) => {
    const req = sender.post(renameEvent());
    await refused({ ...req, query: { ...req.query, timestamp: '17e8' } }, 400, 'bad_timestamp');
  });

  it('refuses a message sealed for another corp (receiveid)', async ({ sender, renameEvent, refused }) => {
    await refused(sender.post(renameEvent(), { receiveId: 'wwanothercorp0001' }), 403, 'wrong_receiveid');
  });

  it('refuses an event addressed to another corp inside a message sealed for ours', async ({ sender, renameEvent, refused }) => {
    const xml = renameEvent().replace(`<ToUserName><![CDATA[${sender.options.corpId}]]>`, '<ToUserName><![CDATA[wwanothercorp0001]]>');
    await refused(sender.post(xml), 403, 'wrong_receiveid');
  });

  it('refuses a ciphertext made with another key, before reading anything from it', async ({ sender, renameEvent, refused }) => {
    const otherKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    // A fixed random prefix makes the garbage the wrong key yields (and so the refusal) deterministic.
    const encrypted = official.encrypt(otherKey, renameEvent(), sender.options.corpId, Buffer.alloc(16, 7));
    await refused(sender.envelope(encrypted), 400, 'bad_ciphertext');
  });

  it('refuses a signed Encrypt that is not base64', async ({ sender, refused }) => {
    await refused(sender.envelope('not*base64!'), 400, 'bad_ciphertext');
  });

  it('refuses an envelope without Encrypt', async ({ sender, renameEvent, refused }) => {
    const req = sender.post(renameEvent());
    await refused({ ...req, body: '<xml><ToUserName><![CDATA[x]]></ToUserName></xml>' }, 400, 'missing_parameters');
  });

  it('refuses malformed outer XML', async ({ sender, renameEvent, refused }) => {
    const req = sender.post(renameEvent());
    await refused({ ...req, body: req.body.replace('</xml>', '') }, 400, 'malformed_xml');
    await refused({ ...req, body: 'not xml at all' }, 400, 'malformed_xml');
  });

  it('refuses XML with a DTD or entities (billion laughs, XXE) without expanding them', async ({ sender, renameEvent, refused }) => {
    const req = sender.post(renameEvent());
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>' +
      req.body.replace('<ToUserName>', '<ToUserName>&lol2;');
    await refused({ ...req, body: laughs }, 400, 'malformed_xml');
    const xxe = `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${req.body}`;
    await refused({ ...req, body: xxe }, 400, 'malformed_xml');
  });

  it('refuses a properly signed message whose own XML is malformed or carries a DTD', async ({ sender, renameEvent, refused }) => {
    await refused(sender.post('<xml><ToUserName><![CDATA[x]]></ToUserName>'), 400, 'malformed_xml');
    await refused(sender.post(`<!DOCTYPE xml [<!ENTITY a "b">]>${renameEvent()}`), 400, 'malformed_xml');
  });

  it('refuses an authentic event without the id it is about', async ({ sender, refused }) => {
    await refused(sender.post(sender.changeContact('update_user', { Name: 'no userid' })), 400, 'malformed_event');
    await refused(sender.post(sender.changeContact('delete_party', { Id: 'twelve' })), 400, 'malformed_event');
  });

  it('refuses a body over 64 KiB, declared or streamed', async ({ service, published, sender, renameEvent, refused }) => {
    const req = sender.post(renameEvent());
    const big = { ...req, body: req.body.replace('</xml>', `<Pad>${'x'.repeat(70 * 1024)}</Pad></xml>`) };
    await refused(big, 413, 'too_large');

    // no content-length: chunked, cut off once past the limit
    await service.wecom.resetStats();
    const url = new URL('/wecom/callback', service.url);
    for (const [k, v] of Object.entries(req.query)) url.searchParams.set(k, v as string);
    const status = await new Promise<number>((resolve, reject) => {
      const r = request(url, { method: 'POST', headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      for (let i = 0; i < 5; i++) r.write(chunk);
      r.end();
    });
    expect(status).toBe(413);
    expect(published).toEqual([]);
  });

  it('refuses other methods', async ({ sender, renameEvent, refused }) => {
    await refused(sender.post(renameEvent()), 405, 'method_not_allowed', 'PUT');
  });
});

describe('repeats', () => {
  it('processes a retried or replayed request once', async ({ published, sender, member, renameEvent, refused, accepted }) => {
    const req = sender.post(renameEvent('重放名'));
    await accepted(req);
    expect(published).toEqual([{ kind: 'USER_UPDATED', userid: member.userid, changedFields: ['name'], source: 'callback' }]);
    published.length = 0;
    // the same signed request again: 200 (so WeCom stops retrying) and nothing else
    await refused(req, 200, 'success');
  });

  it('processes an identical event signed afresh again: two genuine identical changes in one second must not collapse', async ({
    published,
    sender,
    renameEvent,
    accepted,
  }) => {
    // Only a holder of the token can sign, so a new signature is a new delivery from WeCom.
    const event = renameEvent('再次');
    await accepted(sender.post(event));
    await accepted(sender.post(event));
    expect(published).toHaveLength(2);
  });

  it('after refusals, a genuine event still goes through and drops exactly what it touched', async ({
    service,
    execute,
    published,
    sender,
    member,
    renameEvent,
    accepted,
  }) => {
    await execute(QUERY);
    await service.wecom.resetStats();
    await accepted(sender.post(renameEvent('最终名')));
    expect(published).toEqual([{ kind: 'USER_UPDATED', userid: member.userid, changedFields: ['name'], source: 'callback' }]);
    await execute(QUERY);
    // the member's own list only
    const { ['/cgi-bin/gettoken']: _t, ...calls } = await service.calls();
    expect(calls).toEqual({ '/cgi-bin/user/list': 1 });
    expect(service.app.callback!.stats()).toMatchObject({ accepted: 4, duplicates: 1 });
  });
});

describe('without a callback configured', () => {
  it('answers 404', async ({ sender, renameEvent, startService }) => {
    const plain = await startService({ listen: true });
    const res = await send(plain.url, sender.post(renameEvent()));
    expect(res.status).toBe(404);
  });
});
