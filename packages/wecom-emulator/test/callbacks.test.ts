import { describe, expect } from 'vitest';
import { EmulatorHarness, type Wire } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';
import { type Answer, CallbackReceiver, type Received } from './callback-receiver.ts';
import { routes } from '../src/routes/index.ts';
import { deliverEvent } from '../src/callbacks.ts';

/** Short timings so the retry and timeout cases run in well under a second each. */
// The timeout leaves a wide margin over the 250 ms "slow receiver" below: the machines are shared.
const TIMING = { callbackTimeoutMs: 700, callbackRetryDelayMs: 50, callbackVerifyTimeoutMs: 500 };
const TOKEN = 'CallbackToken42';
const KEY = 'K7mQ2xV9pL4rT8wZ1bN6cF3hJ5dS0gA2eY7uI9oP4qW';

/** One receiver per file beside the emulator, back to its defaults (well-behaved, TOKEN and KEY) before every test. */
const it = emulatorTest(TIMING)
  .extend('receiver', { scope: 'file' }, async ({ wecom }, { onCleanup }) => {
    const receiver = new CallbackReceiver(TOKEN, KEY, wecom.creds.corpId);
    await receiver.start();
    onCleanup(() => receiver.close());
    return receiver;
  })
  .extend('freshReceiver', { auto: true }, ({ receiver }) => {
    receiver.reset();
    receiver.token = TOKEN;
    receiver.encodingAESKey = KEY;
  });

const callbackState = async (wecom: EmulatorHarness): Promise<Wire> => (await wecom.admin('callback')).json;

async function subscribe(wecom: EmulatorHarness, receiver: CallbackReceiver, extra: Record<string, unknown> = {}) {
  const res = await wecom.admin('callback', 'POST', { url: receiver.url, token: TOKEN, encodingAESKey: KEY, ...extra });
  expect(res.status, res.text).toBe(200);
  receiver.requests.length = 0;
  return res;
}

/** Waits until the emulator has finished every queued delivery (through its admin API). */
async function settled(wecom: EmulatorHarness, count: number, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { deliveries } = await callbackState(wecom);
    if (deliveries.length >= count && deliveries.every((d: { status: string }) => d.status === 'delivered' || d.status === 'failed'))
      return deliveries;
    if (Date.now() > deadline) throw new Error(`deliveries did not settle: ${JSON.stringify(deliveries)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const now = async (wecom: EmulatorHarness) => (await wecom.admin('clock')).json.now as number;

describe('URL verification (POST /__emulator/callback)', () => {
  it('sends a signed, encrypted echostr and accepts the exact plaintext back', async ({ wecom, receiver }) => {
    const res = await wecom.admin('callback', 'POST', { url: receiver.url, token: TOKEN, encodingAESKey: KEY });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ url: receiver.url, token: TOKEN, encodingAESKey: KEY, fieldSet: 'full' });
    const [get] = receiver.gets();
    expect(receiver.gets()).toHaveLength(1);
    const q = get!.url.searchParams;
    expect(get!.url.pathname).toBe('/wecom/callback');
    expect(q.get('timestamp')).toMatch(/^\d{10}$/);
    expect(q.get('nonce')).toMatch(/^\d+$/);
    // The receiver's own check (official package) passed, so the echo matched.
    expect(receiver.echo(get!).status).toBe(200);
    expect(receiver.echo(get!).body).toMatch(/^\d+$/);
    expect(await callbackState(wecom)).toMatchObject({ url: receiver.url, fieldSet: 'full', deliveries: [] });
  });

  it('uses the seeded token and key when the call gives none', async ({ wecom, receiver }) => {
    const { token, encodingAESKey } = wecom.creds.callback;
    receiver.token = token;
    receiver.encodingAESKey = encodingAESKey;
    const res = await wecom.admin('callback', 'POST', { url: receiver.url });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ url: receiver.url, token, encodingAESKey });
  });

  it.for<[string, (receiver: CallbackReceiver, req: Received) => Answer, RegExp]>([
    ['answers a wrong plaintext', () => ({ status: 200, body: '123' }), /decrypted echostr/],
    ['answers the plaintext in quotes', (receiver, req) => ({ status: 200, body: `"${receiver.echo(req).body}"` }), /decrypted echostr/],
    ['answers with a trailing newline', (receiver, req) => ({ status: 200, body: `${receiver.echo(req).body}\n` }), /decrypted echostr/],
    ['answers 500', () => ({ status: 500, body: 'oops' }), /HTTP 500/],
    [
      'takes longer than the verification timeout',
      (receiver, req) => ({ ...receiver.echo(req), delayMs: 1_200 }),
      /no complete answer within 500 ms/,
    ],
  ])('refuses a URL that %s (400) and keeps the previous callback', async ([_name, behaviour, message], { wecom, receiver }) => {
    await subscribe(wecom, receiver);
    const before = await callbackState(wecom);
    receiver.onGet = (req) => behaviour(receiver, req);
    const other = receiver.url.replace('/wecom/callback', '/elsewhere');
    const res = await wecom.admin('callback', 'POST', {
      url: other,
      token: 'OtherToken',
      encodingAESKey: 'Z'.repeat(43),
      fieldSet: 'reduced',
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
    expect(res.json.error).toMatch(/previous callback is kept/);
    expect(res.json.error).not.toContain('OtherToken');
    expect(await callbackState(wecom)).toEqual(before);
  });

  it('refuses when the receiver checks with a different token (signature mismatch → 403)', async ({ wecom, receiver }) => {
    receiver.token = 'SomethingElse';
    const res = await wecom.admin('callback', 'POST', { url: receiver.url, token: TOKEN, encodingAESKey: KEY });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/HTTP 403/);
    expect((await callbackState(wecom)).url).toBeNull();
  });

  it('refuses an unreachable URL', async ({ wecom }) => {
    const res = await wecom.admin('callback', 'POST', { url: 'http://127.0.0.1:1/cb', token: TOKEN, encodingAESKey: KEY });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/connection failed/);
    expect((await callbackState(wecom)).url).toBeNull();
  });

  it('removes the callback with url null (no verification), after which nothing is sent', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    const res = await wecom.admin('callback', 'POST', { url: null });
    expect(res.status).toBe(200);
    expect(receiver.gets()).toHaveLength(0);
    expect((await wecom.console('department/create', { name: '无回调', parentid: 1 })).json.errcode).toBe(0);
    expect((await callbackState(wecom)).deliveries).toEqual([]);
  });

  it('validates the admin body (400 naming the field)', async ({ wecom, receiver }) => {
    const res = await wecom.admin('callback', 'POST', { url: receiver.url, fieldSet: 'minimal' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/fieldSet/);
    expect(receiver.gets()).toHaveLength(0);
  });
});

describe('change_contact delivery', () => {
  it('delivers a console department create as a signed, encrypted event with every field', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    const t0 = await now(wecom);
    const created = await wecom.console('department/create', { name: '回调测试部', parentid: 2, order: 77 });
    expect(created.json.errcode).toBe(0);
    const t1 = await now(wecom);
    const [post] = await receiver.waitFor('POST', 1);
    expect(post!.url.pathname).toBe('/wecom/callback');
    const { outer, event } = receiver.open(post!);
    expect(outer).toEqual({ ToUserName: wecom.creds.corpId, AgentID: '', Encrypt: outer['Encrypt'] });

    const dept = (await wecom.console('department/get', { id: created.json.id })).json.department;
    expect(event).toEqual({
      ToUserName: wecom.creds.corpId,
      FromUserName: 'sys',
      CreateTime: event.CreateTime,
      MsgType: 'event',
      Event: 'change_contact',
      ChangeType: 'create_party',
      Id: String(dept.id),
      Name: dept.name,
      ParentId: String(dept.parentid),
      Order: String(dept.order),
    });
    expect(dept).toMatchObject({ name: '回调测试部', parentid: 2, order: 77 });
    expect(Number(event.CreateTime)).toBeGreaterThanOrEqual(t0);
    expect(Number(event.CreateTime)).toBeLessThanOrEqual(t1);
    expect((await settled(wecom, 1))[0]).toMatchObject({ changeType: 'create_party', attempts: 1, status: 'delivered', httpStatus: 200 });
  });

  it('uses CDATA for text, so names with XML characters arrive intact', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    // Department names may hold & and ] (only \ : * ? " < > | are refused, 60009).
    expect((await wecom.console('department/create', { name: 'R&D ]]新部', parentid: 1 })).json.errcode).toBe(0);
    const [post] = await receiver.waitFor('POST', 1);
    const opened = receiver.open(post!);
    expect(opened.event.Name).toBe('R&D ]]新部');
    expect(opened.xml).toContain('<Name><![CDATA[R&D ]]新部]]></Name>');
  });

  it('delivers update_party with only the changed fields, and delete_party, in order', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    const id = (await wecom.console('department/create', { name: '待改名', parentid: 1 })).json.id;
    expect((await wecom.console('department/update', { id, name: '已改名' })).json.errcode).toBe(0);
    expect((await wecom.console('department/update', { id, parentid: 2 })).json.errcode).toBe(0);
    expect((await wecom.console('department/update', { id, order: 5 })).json.errcode).toBe(0); // order only: no event
    expect((await wecom.console('department/delete', { id })).json.errcode).toBe(0);
    const posts = await receiver.waitFor('POST', 4);
    await settled(wecom, 4);
    expect(receiver.posts()).toHaveLength(4);
    const events = posts.map((p) => receiver.open(p).event);
    expect(events.map((e) => e.ChangeType)).toEqual(['create_party', 'update_party', 'update_party', 'delete_party']);
    const strip = ({ ToUserName: _t, FromUserName: _f, CreateTime: _c, MsgType: _m, Event: _e, ...rest }: Record<string, unknown>) => rest;
    expect(strip(events[1]!)).toEqual({ ChangeType: 'update_party', Id: String(id), Name: '已改名' });
    expect(strip(events[2]!)).toEqual({ ChangeType: 'update_party', Id: String(id), ParentId: '2' });
    expect(strip(events[3]!)).toEqual({ ChangeType: 'delete_party', Id: String(id) });
  });

  it('sends nothing for the same change made through the contacts-sync API', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    const api = await wecom.asContact('department/create', { body: { name: 'API部门', parentid: 1 } });
    expect(api.json.errcode).toBe(0);
    // Deliveries keep their order, so had the API change been queued, it would arrive first.
    const viaConsole = await wecom.console('department/create', { name: '控制台部门', parentid: 1 });
    const [first] = await receiver.waitFor('POST', 1);
    expect(receiver.open(first!).event).toMatchObject({ ChangeType: 'create_party', Name: '控制台部门', Id: String(viaConsole.json.id) });
    await settled(wecom, 1);
    expect(receiver.posts()).toHaveLength(1);
    expect((await callbackState(wecom)).deliveries).toHaveLength(1);
  });

  it('sends nothing for a refused console change', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    expect((await wecom.console('department/create', { name: 'x', parentid: 424242 })).json.errcode).toBe(60004);
    await wecom.console('department/create', { name: '之后', parentid: 1 });
    const [first] = await receiver.waitFor('POST', 1);
    expect(receiver.open(first!).event.Name).toBe('之后');
  });

  it('retries a receiver that answers 500: three attempts in total, then gives up', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    receiver.onPost = () => ({ status: 500, body: 'down' });
    await wecom.console('department/create', { name: '重试', parentid: 1 });
    const [record] = await settled(wecom, 1);
    expect(record).toMatchObject({ changeType: 'create_party', attempts: 3, status: 'failed', httpStatus: 500, error: 'HTTP 500' });
    expect(receiver.posts()).toHaveLength(3);
    // Every attempt is the same signed request, so the receiver can deduplicate.
    expect(new Set(receiver.posts().map((p) => p.url.search + p.body)).size).toBe(1);
    // The pause between attempts is honoured.
    const [a, b, c] = receiver.posts();
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(45);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(45);
    // No fourth attempt.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.posts()).toHaveLength(3);
  });

  it('stops retrying once an attempt gets 200', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    receiver.onPost = (_req, n) => (n === 0 ? { status: 503 } : { status: 200 });
    await wecom.console('department/create', { name: '第二次成功', parentid: 1 });
    const [record] = await settled(wecom, 1);
    expect(record).toMatchObject({ attempts: 2, status: 'delivered', httpStatus: 200 });
    expect(receiver.posts()).toHaveLength(2);
  });

  it('counts a stalled answer (beyond the timeout) as a failed attempt', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    receiver.onPost = (_req, n) => (n < 2 ? { status: 200, delayMs: 1_500 } : { status: 200 });
    await wecom.console('department/create', { name: '超时', parentid: 1 });
    const [record] = await settled(wecom, 1);
    expect(record).toMatchObject({ attempts: 3, status: 'delivered', httpStatus: 200 });
    expect(receiver.posts()).toHaveLength(3);
  });

  it('never holds up the API response, and keeps later events behind a slow one', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    receiver.onPost = (_req, n) => (n === 0 ? { status: 200, delayMs: 250 } : { status: 200 });
    const first = await wecom.console('department/create', { name: '慢一', parentid: 1 });
    const second = await wecom.console('department/create', { name: '快二', parentid: 1 });
    expect([first.json.errcode, second.json.errcode]).toEqual([0, 0]);
    // Both answers came while the first delivery was still waiting for its receiver.
    const inFlight = (await callbackState(wecom)).deliveries.map((d: { status: string }) => d.status);
    expect(inFlight).toHaveLength(2);
    expect(inFlight.every((status: string) => status === 'pending' || status === 'delivering')).toBe(true);
    const posts = await receiver.waitFor('POST', 2);
    expect(posts.map((p) => receiver.open(p).event.Name)).toEqual(['慢一', '快二']);
    // The second was sent only after the first was answered.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(240);
  });

  it('a reset stops pending deliveries and forgets the callback', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    receiver.onPost = () => ({ status: 500 });
    await wecom.console('department/create', { name: '重置前', parentid: 1 });
    await receiver.waitFor('POST', 1);
    await wecom.reset();
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.posts().length).toBeLessThan(3);
    expect(await callbackState(wecom)).toMatchObject({ url: null, deliveries: [] });
  });
});

describe('the reduced (post-2022-08-15) field set', () => {
  it('sends only Id and ParentId for departments, and update_party only on a move', async ({ wecom, receiver }) => {
    const res = await subscribe(wecom, receiver, { fieldSet: 'reduced' });
    expect(res.json.fieldSet).toBe('reduced');
    expect((await callbackState(wecom)).fieldSet).toBe('reduced');
    const id = (await wecom.console('department/create', { name: '精简', parentid: 1, order: 9 })).json.id;
    await wecom.console('department/update', { id, name: '只改名' }); // no event in reduced mode
    await wecom.console('department/update', { id, name: '改名又移动', parentid: 2 });
    await wecom.console('department/delete', { id });
    const posts = await receiver.waitFor('POST', 3);
    await settled(wecom, 3);
    expect(receiver.posts()).toHaveLength(3);
    const bodies = posts.map((p) => {
      const { ToUserName: _t, FromUserName: _f, CreateTime: _c, MsgType: _m, Event: _e, ...rest } = receiver.open(p).event;
      return rest;
    });
    expect(bodies).toEqual([
      { ChangeType: 'create_party', Id: String(id), ParentId: '1' },
      { ChangeType: 'update_party', Id: String(id), ParentId: '2' },
      { ChangeType: 'delete_party', Id: String(id) },
    ]);
  });

  it('goes back to full fields after a reset', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver, { fieldSet: 'reduced' });
    await wecom.reset();
    expect((await callbackState(wecom)).fieldSet).toBe('full');
  });
});

const hasUserRoutes = routes.some((r) => r.path === '/cgi-bin/user/create') && routes.some((r) => r.path === '/cgi-bin/user/update');

describe.runIf(hasUserRoutes)('member events', () => {
  const userid = 'callback_user_1';

  it('delivers create_user with every field of the member as created', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    const body = {
      userid,
      name: '回调成员',
      alias: 'cb',
      department: [2, 3],
      is_leader_in_dept: [1, 0],
      mobile: '13912345678',
      email: 'cb1@example.com',
      position: '测试',
      gender: '2',
      telephone: '010-12345678',
      address: '北京市',
      extattr: {
        attrs: [
          { type: 0, name: '工号', text: { value: 'E42' } },
          { type: 1, name: '个人主页', web: { url: 'https://x.example.com/cb', title: '主页' } },
        ],
      },
    };
    expect((await wecom.console('user/create', body)).json.errcode).toBe(0);
    const [post] = await receiver.waitFor('POST', 1);
    const { event } = receiver.open(post!);
    const user = (await wecom.console('user/get', { userid })).json;
    expect(user).toMatchObject({ name: '回调成员', department: [2, 3], mobile: '13912345678', position: '测试' });
    expect(event).toEqual({
      ToUserName: wecom.creds.corpId,
      FromUserName: 'sys',
      CreateTime: event.CreateTime,
      MsgType: 'event',
      Event: 'change_contact',
      ChangeType: 'create_user',
      UserID: user.userid,
      Name: user.name,
      Department: user.department.join(','),
      MainDepartment: String(user.main_department),
      IsLeaderInDept: user.is_leader_in_dept.join(','),
      DirectLeader: user.direct_leader.join(','),
      Position: user.position,
      Mobile: user.mobile,
      Gender: user.gender,
      Email: user.email,
      BizMail: user.biz_mail,
      Status: String(user.status),
      Avatar: user.avatar,
      Alias: user.alias,
      Telephone: user.telephone,
      Address: user.address,
      ExtAttr: {
        Item: user.extattr.attrs.map((a: { type: number; name: string; text?: { value: string }; web?: { url: string; title: string } }) =>
          a.type === 0
            ? { Name: a.name, Type: '0', Text: { Value: a.text!.value } }
            : { Name: a.name, Type: '1', Web: { Title: a.web!.title, Url: a.web!.url } },
        ),
      },
    });
    expect(event.ExtAttr.Item).toHaveLength(2);
  });

  it('delivers update_user with only the changed fields', async ({ wecom, receiver }) => {
    await wecom.console('user/create', { userid, name: '改前', department: [1], mobile: '13912345679' });
    await subscribe(wecom, receiver);
    expect((await wecom.console('user/update', { userid, position: '新职位' })).json.errcode).toBe(0);
    const [post] = await receiver.waitFor('POST', 1);
    const { event } = receiver.open(post!);
    expect(event).toMatchObject({ ChangeType: 'update_user', UserID: userid, Position: '新职位' });
    expect(event.Name).toBeUndefined();
    expect(event.Mobile).toBeUndefined();
  });

  it('in the reduced field set, sends member events with UserID (and Department) only', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver, { fieldSet: 'reduced' });
    await wecom.console('user/create', { userid, name: '精简成员', department: [2], mobile: '13912345670', position: 'x' });
    await wecom.console('user/update', { userid, position: 'y' });
    const posts = await receiver.waitFor('POST', 2);
    const [created, updated] = posts.map((p) => {
      const { ToUserName: _t, FromUserName: _f, CreateTime: _c, MsgType: _m, Event: _e, ...rest } = receiver.open(p).event;
      return rest;
    });
    expect(created).toEqual({ ChangeType: 'create_user', UserID: userid, Department: '2' });
    expect(updated).toEqual({ ChangeType: 'update_user', UserID: userid });
  });

  it('sends nothing for the contacts-sync token’s own member change', async ({ wecom, receiver }) => {
    await subscribe(wecom, receiver);
    expect(
      (await wecom.asContact('user/create', { body: { userid, name: 'API成员', department: [1], mobile: '13912345671' } })).json.errcode,
    ).toBe(0);
    await wecom.console('department/create', { name: '标记', parentid: 1 });
    const [first] = await receiver.waitFor('POST', 1);
    expect(receiver.open(first!).event.ChangeType).toBe('create_party');
  });
});

describe('a preset callback URL (the service’s embedded mode)', () => {
  it('delivers without URL verification and survives a reset', async ({ wecom }) => {
    // Same seed, same corp and callback credentials as `wecom`.
    const { corpId, callback } = wecom.creds;
    const r = new CallbackReceiver(callback.token, callback.encodingAESKey, corpId);
    await r.start();
    const preset = await EmulatorHarness.start({ ...TIMING, callbackUrl: r.url });
    try {
      expect(preset.creds.corpId).toBe(corpId);
      await preset.console('department/create', { name: '预设', parentid: 1 });
      const [post] = await r.waitFor('POST', 1);
      expect(r.gets()).toHaveLength(0);
      expect(r.open(post!).event).toMatchObject({ ChangeType: 'create_party', Name: '预设' });
      await preset.reset();
      expect((await preset.admin('callback')).json).toMatchObject({ url: r.url, fieldSet: 'full', deliveries: [] });
    } finally {
      await preset.close();
      await r.close();
    }
  });
});

describe('deliverEvent (reused for batch_job_result, §9.7)', () => {
  it('delivers nested elements to a per-job URL with its own token and key', async () => {
    const jobToken = 'JobToken7';
    const jobKey = 'J'.repeat(42) + 'A';
    const r = new CallbackReceiver(jobToken, jobKey, 'wwjobcorp');
    await r.start();
    try {
      const outcome = await deliverEvent({
        url: r.url,
        token: jobToken,
        encodingAESKey: jobKey,
        receiveId: 'wwjobcorp',
        xmlFields: {
          ToUserName: 'wwjobcorp',
          FromUserName: 'sys',
          CreateTime: 1425284517,
          MsgType: 'event',
          Event: 'batch_job_result',
          BatchJob: { JobId: 'S0Mrnnd]]>vRG5', JobType: 'sync_user', ErrCode: 0, ErrMsg: 'ok' },
        },
        timing: { timeoutMs: 300, retryDelayMs: 10 },
      });
      expect(outcome).toEqual({ delivered: true, attempts: 1, httpStatus: 200 });
      const [post] = r.posts();
      const { event, outer } = r.open(post!);
      expect(outer['ToUserName']).toBe('wwjobcorp');
      expect(event).toEqual({
        ToUserName: 'wwjobcorp',
        FromUserName: 'sys',
        CreateTime: '1425284517',
        MsgType: 'event',
        Event: 'batch_job_result',
        BatchJob: { JobId: 'S0Mrnnd]]>vRG5', JobType: 'sync_user', ErrCode: '0', ErrMsg: 'ok' },
      });
    } finally {
      await r.close();
    }
  });

  it('reports a failure after three attempts, without the token or key in the error', async () => {
    const outcome = await deliverEvent({
      url: 'http://127.0.0.1:1/nowhere',
      token: 'SecretTok',
      encodingAESKey: KEY,
      receiveId: 'ww1',
      xmlFields: { Event: 'batch_job_result' },
      timing: { timeoutMs: 200, retryDelayMs: 5 },
    });
    expect(outcome).toMatchObject({ delivered: false, attempts: 3, httpStatus: null });
    expect(outcome.error).toMatch(/connection failed/);
    expect(outcome.error).not.toContain('SecretTok');
    expect(outcome.error).not.toContain(KEY);
  });
});
