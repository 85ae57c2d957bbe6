import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_TIMEOUTS, serverOptions } from '../../src/security/http-server.ts';
import { ServiceHarness } from '../helpers/service.ts';
import { CallbackSender, send } from '../helpers/callback-sender.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { DEFAULT_QUERY_LIMITS } from '../../src/security/settings.ts';
import { keysOnly, post, testKey, withKey, writeCalls } from './helpers.ts';

/** Issue 14, medium and low findings: each test failed before its fix. */

const writerOnly = testKey('writer-only', ['directory:write']);
const writer = testKey('writer', ['directory:read', 'directory:write']);
let service: ServiceHarness;

beforeAll(async () => {
  service = await ServiceHarness.start({ security: keysOnly([writerOnly, writer]) });
});
afterAll(() => service.close());

describe('item 4: a write-only key cannot read through mutation payloads', () => {
  const UPDATE = (selection: string) =>
    `mutation { updateUser(input: { userid: "xiegang", position: "架构师" }) { __typename ${selection} } }`;

  it('asking for the payload is FORBIDDEN before anything runs, and nothing is written', async () => {
    await service.wecom.resetStats();
    const res = await post(
      service,
      {
        query: UPDATE(
          '... on MutationUpdateUserSuccess { data { name position tags { name } departments { members(first: 500) { nodes { name mobile } } } } }',
        ),
      },
      withKey(writerOnly),
    );
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        message:
          "Forbidden: MutationUpdateUserSuccess.data needs scope directory:read (a mutation's payload is directory data; ask for __typename to learn the outcome)",
        extensions: expect.objectContaining({ code: 'FORBIDDEN', needs: ['directory:read'] }),
      }),
    ]);
    expect(await writeCalls(service)).toEqual({});
  });

  it('the outcome (__typename) is still answered, and a key with read gets the payload', async () => {
    const outcome = await post(service, { query: UPDATE('... on MutationUpdateUserSuccess { data { __typename } }') }, withKey(writerOnly));
    expect(outcome.body).toEqual({ data: { updateUser: { __typename: 'MutationUpdateUserSuccess', data: { __typename: 'User' } } } });
    const read = await post(service, { query: UPDATE('... on MutationUpdateUserSuccess { data { position } }') }, withKey(writer));
    expect(read.body).toEqual({ data: { updateUser: { __typename: 'MutationUpdateUserSuccess', data: { position: '架构师' } } } });
  });
});

describe('item 12: deeply nested variables', () => {
  it('200,000 levels deep get a 400 naming the limit, not a 500', async () => {
    await service.wecom.resetStats();
    const depth = 200_000;
    const body = `{"query":"mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }","variables":{"input":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
    const res = await post(service, body, withKey(writer));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({
      message: 'The variables nest more than 100 levels deep',
      extensions: { code: 'VARIABLES_TOO_NESTED', limit: 100 },
    });
    expect(await writeCalls(service)).toEqual({});
  });

  it('ordinary variables pass', async () => {
    const res = await post(
      service,
      { query: 'query($ids: [String!]!) { users(userids: $ids) { userid } }', variables: { ids: ['xiegang'] } },
      withKey(writer),
    );
    expect(res.body.data.users).toEqual([{ userid: 'xiegang' }]);
  });
});

describe('item 11: gender, extAttrs and externalProfile are personal data', () => {
  const reader = testKey('reader-11', ['directory:read']);
  const piiReader = testKey('pii-11', ['directory:read', 'directory:pii']);
  let s: ServiceHarness;
  beforeAll(async () => {
    s = await ServiceHarness.start({ security: keysOnly([reader, piiReader]) });
  });
  afterAll(() => s.close());

  it('are withheld without directory:pii and given with it', async () => {
    const query =
      '{ department(id: 1) { members(recursive: true, first: 500) { nodes { userid gender extAttrs { name } externalProfile { externalCorpName } } } } }';
    const withPii = await post(s, { query }, withKey(piiReader));
    const without = await post(s, { query }, withKey(reader));
    expect(withPii.body.errors).toBeUndefined();
    expect(without.body.errors).toBeUndefined();
    type Row = { userid: string; gender: string | null; extAttrs: unknown[]; externalProfile: unknown };
    const full: Row[] = withPii.body.data.department.members.nodes;
    const bare: Row[] = without.body.data.department.members.nodes;
    // The seed has members with each of them (else the test would prove nothing).
    expect(full.some((u) => u.gender !== null)).toBe(true);
    expect(full.some((u) => u.extAttrs.length > 0)).toBe(true);
    expect(full.some((u) => u.externalProfile !== null)).toBe(true);
    expect(bare.map((u) => u.userid)).toEqual(full.map((u) => u.userid));
    for (const u of bare) expect(u).toEqual({ userid: u.userid, gender: null, extAttrs: [], externalProfile: null });
  });
});

describe('item 15: HTTP_HEADERS_TIMEOUT_MS is honoured', () => {
  it("a client that never finishes its headers is dropped near the timeout, not after node's 30 s check interval", async () => {
    const options = serverOptions({ headersTimeoutMs: 1_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 1_000 });
    expect(serverOptions(DEFAULT_SERVER_TIMEOUTS).connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
    const slow = await ServiceHarness.start({ listen: true, security: keysOnly([writer]), serverOptions: options });
    try {
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(slow.url).port), '127.0.0.1', () => socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n'));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      // 1 s plus at most one check interval (and a shared machine's slack): far below 30 s.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await slow.close();
    }
  });
});

describe('item 15: failed authentication and /wecom/callback are rate-limited', () => {
  const rateLimit = { requestsPerMinute: 60, requestBurst: 3, mutationsPerMinute: 60, mutationBurst: 3 };
  let s: ServiceHarness;
  beforeAll(async () => {
    s = await ServiceHarness.start({ listen: true, callback: true, security: { ...keysOnly([writer]), rateLimit } });
  });
  afterAll(() => s.close());

  it('requests with a wrong key get 401 until the address has spent its budget, then 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${s.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': `guess-${i}` },
        body: '{"query":"{ __typename }"}',
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('/wecom/callback answers 429 once an address has spent its budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await fetch(`${s.url}/wecom/callback?msg_signature=x&timestamp=1&nonce=n&echostr=e`)).status);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(statuses.slice(0, 3)).not.toContain(429);
  });
});

describe('item 8: GET /wecom/callback decrypts only echostrs', () => {
  let s: ServiceHarness;
  let sender: CallbackSender;
  beforeAll(async () => {
    s = await ServiceHarness.start({ listen: true, callback: true });
    const { token, encodingAESKey } = s.wecom.creds.callback;
    sender = new CallbackSender({ token, encodingAESKey, corpId: s.wecom.creds.corpId });
  });
  afterAll(() => s.close());

  it("a captured event's Encrypt given as echostr is refused, and its XML is not returned", async () => {
    const event =
      '<xml><ToUserName><![CDATA[corp]]></ToUserName><Event><![CDATA[change_contact]]></Event><Email><![CDATA[someone@example.com]]></Email></xml>';
    const res = await send(s.url, sender.verification(event), 'GET');
    expect(res.status).toBe(403);
    expect(res.text).toContain('not_an_echostr');
    expect(res.text).not.toContain('someone@example.com');
  });

  it("WeCom's random echostr is still answered exactly", async () => {
    const res = await send(s.url, sender.verification('8147297539112093'), 'GET');
    expect(res).toEqual({ status: 200, text: '8147297539112093' });
  });
});

describe('item 13: idempotencyKey is per caller', () => {
  const first = testKey('admin-one', ['directory:read', 'directory:write', 'directory:admin']);
  const second = testKey('admin-two', ['directory:read', 'directory:write', 'directory:admin']);
  let s: ServiceHarness;
  beforeAll(async () => {
    s = await ServiceHarness.start({ security: keysOnly([first, second]), jobs: { initialPollMs: 20, maxPollMs: 100 } });
  });
  afterAll(() => s.close());

  const IMPORT = `mutation($rows: [ImportUserRow!]) { importUsers(mode: SYNC, rows: $rows, idempotencyKey: "nightly-sync") { __typename ... on MutationImportUsersSuccess { data { id total } } } }`;

  it("a second admin with the same key gets its own job, not the first admin's", async () => {
    await s.wecom.resetStats();
    const one = await post(
      s,
      { query: IMPORT, variables: { rows: [{ userid: 'idem.one', name: '一号', departmentIds: [2], mobile: '13900003331' }] } },
      withKey(first),
    );
    // WeCom runs one import at a time (302008): the second caller's import waits for the first to finish.
    await expect
      .poll(
        async () =>
          (await post(s, { query: `{ importJob(id: "${one.body.data.importUsers.data.id}") { status } }` }, withKey(first))).body.data
            .importJob.status,
        { timeout: 10_000, interval: 50 },
      )
      .toBe('FINISHED');
    const two = await post(
      s,
      {
        query: IMPORT,
        variables: {
          rows: [
            { userid: 'idem.two', name: '二号', departmentIds: [2], mobile: '13900003332' },
            { userid: 'idem.three', name: '三号', departmentIds: [2], mobile: '13900003333' },
          ],
        },
      },
      withKey(second),
    );
    expect(one.body.data.importUsers.__typename).toBe('MutationImportUsersSuccess');
    expect(two.body.data.importUsers.__typename).toBe('MutationImportUsersSuccess');
    expect(two.body.data.importUsers.data.id).not.toBe(one.body.data.importUsers.data.id);
    expect(two.body.data.importUsers.data.total).toBe(2);
    expect((await s.calls())['/cgi-bin/batch/syncuser']).toBe(2);
    // The same caller retrying with its key still gets its own job back.
    const retry = await post(
      s,
      { query: IMPORT, variables: { rows: [{ userid: 'idem.one', name: '一号', departmentIds: [2], mobile: '13900003331' }] } },
      withKey(first),
    );
    expect(retry.body.data.importUsers.data.id).toBe(one.body.data.importUsers.data.id);
    expect((await s.calls())['/cgi-bin/batch/syncuser']).toBe(2);
  });
});

describe('item 7: open subscriptions per caller', () => {
  let s: ServiceHarness;
  beforeAll(async () => {
    s = await ServiceHarness.start({ listen: true, security: { limits: { ...DEFAULT_QUERY_LIMITS, maxSubscriptionsPerCaller: 2 } } });
  });
  afterAll(() => s.close());

  const SUBSCRIBE = 'subscription { contactChanged { kind } }';
  const open = () => SseSubscription.open((url, init) => fetch(url, init), `${s.url}/graphql`, SUBSCRIBE);

  it('one more than the cap is refused; closing one makes room again', async () => {
    const first = await open();
    const second = await open();
    const third = await open();
    const refused = await third.next();
    expect(refused?.errors?.[0]).toMatchObject({
      message: 'This caller has 2 subscriptions open; at most 2 are allowed (close one first)',
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 2 },
    });
    first.close();
    // The server sees the disconnect asynchronously.
    let fourth: SseSubscription | undefined;
    for (let i = 0; i < 50 && !fourth; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const attempt = await open();
      const event = await Promise.race([attempt.next(300).catch(() => null), new Promise<null>((r) => setTimeout(() => r(null), 300))]);
      if (event?.errors) attempt.close();
      else fourth = attempt;
    }
    expect(fourth).toBeDefined();
    second.close();
    fourth?.close();
  });
});

describe('item 5: a subtree writer and corp-wide tags it cannot see', () => {
  const rdWriter = testKey('rd-writer-5', ['directory:read', 'directory:write'], [2]);
  let s: ServiceHarness;
  let tagid: number;
  beforeAll(async () => {
    s = await ServiceHarness.start({ security: keysOnly([rdWriter]) });
    // A tag that lists nothing in department 2's subtree (here: nothing at all).
    const created = await s.wecom.console('tag/create', { tagname: '全公司机密标签' });
    tagid = created.json.tagid;
  });
  afterAll(() => s.close());

  const member = async (): Promise<string> => {
    const res = await post(
      s,
      { query: '{ department(id: 2) { members(recursive: true, first: 500) { nodes { userid departments { id } } } } }' },
      withKey(rdWriter),
    );
    return res.body.data.department.members.nodes[0].userid;
  };

  it.each(['addTagMembers', 'removeTagMembers'])("%s on it is refused before any write, without the tag's name", async (field) => {
    const userid = await member();
    await s.wecom.resetStats();
    const res = await post(
      s,
      {
        query: `mutation { ${field}(tagId: ${tagid}, userids: ["${userid}"]) { __typename ... on Error { message } ... on Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success { data { tag { name } } } } }`,
      },
      withKey(rdWriter),
    );
    expect(res.body.data[field]).toEqual({
      __typename: 'PermissionDeniedError',
      message: `tagId: tag ${tagid} is outside the departments this credential may change`,
    });
    expect(JSON.stringify(res.body)).not.toContain('全公司机密标签');
    expect(await writeCalls(s)).toEqual({});
  });

  it('a tag that does not exist gets the same answer', async () => {
    const res = await post(
      s,
      { query: 'mutation { removeTagMembers(tagId: 9999, userids: ["nobody"]) { __typename ... on Error { message } } }' },
      withKey(rdWriter),
    );
    expect(res.body.data.removeTagMembers).toEqual({
      __typename: 'PermissionDeniedError',
      message: 'tagId: tag 9999 is outside the departments this credential may change',
    });
  });
});

describe('item 10: a subtree key does not see the parent of its top', () => {
  const rdReader = testKey('rd-reader-10', ['directory:read'], [2]);
  let s: ServiceHarness;
  beforeAll(async () => {
    s = await ServiceHarness.start({ security: keysOnly([rdReader]) });
  });
  afterAll(() => s.close());

  it('its top has parentId 0 and no parent, like a root; departments below keep theirs', async () => {
    const res = await post(
      s,
      { query: '{ department(id: 2) { parentId parent { departmentId } children { departmentId parentId } } }' },
      withKey(rdReader),
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.department).toMatchObject({ parentId: 0, parent: null });
    expect(res.body.data.department.children.length).toBeGreaterThan(0);
    for (const child of res.body.data.department.children) expect(child.parentId).toBe(2);
  });
});
