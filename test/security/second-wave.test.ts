import { describe, expect } from 'vitest';
import { DEFAULT_SERVER_TIMEOUTS, serverOptions } from '../../src/security/http-server.ts';
import { graphql } from '../generated/index.ts';
import { send } from '../helpers/callback-sender.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { DEFAULT_QUERY_LIMITS } from '../../src/security/settings.ts';
import { success } from '../helpers/mutations.ts';
import type { Execute } from '../testkit/execute.ts';
import { ownServiceTest, serviceTest } from '../testkit/service.ts';
import { answerToUnfinished, firstError, keysOnly, post, senderFor, testKey, withKey, writeCalls } from './helpers.ts';

/** Issue 14, medium and low findings: each test failed before its fix. Each item's service is its own. */

const writerOnly = testKey('writer-only', ['directory:write']);
const writer = testKey('writer', ['directory:read', 'directory:write']);
const it = serviceTest({ security: keysOnly([writerOnly, writer]) }, { resetStats: false });

const reader11 = testKey('reader-11', ['directory:read']);
const piiReader11 = testKey('pii-11', ['directory:read', 'directory:pii']);
const item11 = serviceTest({ security: keysOnly([reader11, piiReader11]) }, { resetStats: false });

const item15 = serviceTest(
  {
    listen: true,
    callback: true,
    security: { ...keysOnly([writer]), rateLimit: { requestsPerMinute: 60, requestBurst: 3, mutationsPerMinute: 60, mutationBurst: 3 } },
  },
  { resetStats: false },
);

const item8 = serviceTest({ listen: true, callback: true }, { resetStats: false });

const adminOne = testKey('admin-one', ['directory:read', 'directory:write', 'directory:admin']);
const adminTwo = testKey('admin-two', ['directory:read', 'directory:write', 'directory:admin']);
const item13 = serviceTest(
  { security: keysOnly([adminOne, adminTwo]), jobs: { initialPollMs: 20, maxPollMs: 100 } },
  { resetStats: false },
);

const item7 = serviceTest(
  { listen: true, security: { limits: { ...DEFAULT_QUERY_LIMITS, maxSubscriptionsPerCaller: 2 } } },
  { resetStats: false },
);

const rdWriter5 = testKey('rd-writer-5', ['directory:read', 'directory:write'], [2]);
const item5 = serviceTest({ security: keysOnly([rdWriter5]) }, { resetStats: false }).extend(
  'tagid',
  { scope: 'file' },
  // A tag that lists nothing in department 2's subtree (here: nothing at all).
  async ({ service }) => (await service.wecom.console('tag/create', { tagname: '全公司机密标签' })).json.tagid as number,
);

const rdReader10 = testKey('rd-reader-10', ['directory:read'], [2]);
const item10 = serviceTest({ security: keysOnly([rdReader10]) }, { resetStats: false });

describe('item 4: a write-only key cannot read through mutation payloads', () => {
  it('asking for the payload is FORBIDDEN before anything runs, and nothing is written', async ({ service, execute }) => {
    await service.wecom.resetStats();
    const res = await execute(
      graphql(`mutation WriteOnlyPayload { updateUser(input: { userid: "xiegang", position: "架构师" }) { __typename
        ... on MutationUpdateUserSuccess { data { name position tags { name } departments { members(first: 500) { nodes { name mobile } } } } } } }`),
      {},
      withKey(writerOnly),
    );
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      expect.objectContaining({
        message:
          "Forbidden: MutationUpdateUserSuccess.data needs scope directory:read (a mutation's payload is directory data; ask for __typename to learn the outcome)",
        extensions: expect.objectContaining({ code: 'FORBIDDEN', needs: ['directory:read'] }),
      }),
    ]);
    expect(await writeCalls(service)).toEqual({});
  });

  it('the outcome (__typename) is still answered, and a key with read gets the payload', async ({ execute }) => {
    const outcome = await execute(
      graphql(`mutation WriteOnlyOutcome { updateUser(input: { userid: "xiegang", position: "架构师" }) { __typename
        ... on MutationUpdateUserSuccess { data { __typename } } } }`),
      {},
      withKey(writerOnly),
    );
    expect(outcome).toEqual({ data: { updateUser: { __typename: 'MutationUpdateUserSuccess', data: { __typename: 'User' } } } });
    const read = await execute(
      graphql(`mutation WriterPayload { updateUser(input: { userid: "xiegang", position: "架构师" }) { __typename
        ... on MutationUpdateUserSuccess { data { position } } } }`),
      {},
      withKey(writer),
    );
    expect(read).toEqual({ data: { updateUser: { __typename: 'MutationUpdateUserSuccess', data: { position: '架构师' } } } });
  });
});

describe('item 12: deeply nested variables', () => {
  it('200,000 levels deep get a 400 naming the limit, not a 500', async ({ service }) => {
    await service.wecom.resetStats();
    const depth = 200_000;
    const body = `{"query":"mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }","variables":{"input":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
    const res = await post(service, body, withKey(writer));
    expect(res.status).toBe(400);
    expect(firstError(res.body)).toMatchObject({
      message: 'The variables nest more than 100 levels deep',
      extensions: { code: 'VARIABLES_TOO_NESTED', limit: 100 },
    });
    expect(await writeCalls(service)).toEqual({});
  });

  it('ordinary variables pass', async ({ execute }) => {
    const res = await execute(
      graphql(`query OrdinaryVariables($ids: [String!]!) { users(userids: $ids) { userid } }`),
      { ids: ['xiegang'] },
      withKey(writer),
    );
    expect(res.data!.users).toEqual([{ userid: 'xiegang' }]);
  });
});

describe('item 11: gender, extAttrs and externalProfile are personal data', () => {
  item11('are withheld without directory:pii and given with it', async ({ execute }) => {
    const query = graphql(
      `query PersonalExtras { department(id: 1) { members(recursive: true, first: 500) { nodes { userid gender extAttrs { name } externalProfile { externalCorpName } } } } }`,
    );
    const withPii = await execute(query, {}, withKey(piiReader11));
    const without = await execute(query, {}, withKey(reader11));
    expect(withPii.errors).toBeUndefined();
    expect(without.errors).toBeUndefined();
    const full = withPii.data!.department!.members.nodes;
    const bare = without.data!.department!.members.nodes;
    // The seed has members with each of them (else the test would prove nothing).
    expect(full.some((u) => u.gender !== null)).toBe(true);
    expect(full.some((u) => u.extAttrs.length > 0)).toBe(true);
    expect(full.some((u) => u.externalProfile !== null)).toBe(true);
    expect(bare.map((u) => u.userid)).toEqual(full.map((u) => u.userid));
    for (const u of bare) expect(u).toEqual({ userid: u.userid, gender: null, extAttrs: [], externalProfile: null });
  });
});

describe('item 15: HTTP_HEADERS_TIMEOUT_MS is honoured', () => {
  ownServiceTest(
    "a client that never finishes its headers is dropped near the timeout, not after node's 30 s check interval",
    async ({ startService }) => {
      const options = serverOptions({ headersTimeoutMs: 1_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 1_000 });
      expect(serverOptions(DEFAULT_SERVER_TIMEOUTS).connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
      const slow = await startService({ listen: true, security: keysOnly([writer]), serverOptions: options });
      const started = Date.now();
      const answer = await answerToUnfinished(slow.url, 'POST /graphql HTTP/1.1\r\nHost: x\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      // 1 s plus at most one check interval (and a shared machine's slack): far below 30 s.
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );
});

describe('item 15: failed authentication and /wecom/callback are rate-limited', () => {
  item15('requests with a wrong key get 401 until the address has spent its budget, then 429', async ({ service: s }) => {
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

  item15('/wecom/callback answers 429 once an address has spent its budget', async ({ service: s }) => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await fetch(`${s.url}/wecom/callback?msg_signature=x&timestamp=1&nonce=n&echostr=e`)).status);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(statuses.slice(0, 3)).not.toContain(429);
  });
});

describe('item 8: GET /wecom/callback decrypts only echostrs', () => {
  item8("a captured event's Encrypt given as echostr is refused, and its XML is not returned", async ({ service: s }) => {
    const event =
      '<xml><ToUserName><![CDATA[corp]]></ToUserName><Event><![CDATA[change_contact]]></Event><Email><![CDATA[someone@example.com]]></Email></xml>';
    const res = await send(s.url, senderFor(s.wecom).verification(event), 'GET');
    expect(res.status).toBe(403);
    expect(res.text).toContain('not_an_echostr');
    expect(res.text).not.toContain('someone@example.com');
  });

  item8("WeCom's random echostr is still answered exactly", async ({ service: s }) => {
    const res = await send(s.url, senderFor(s.wecom).verification('8147297539112093'), 'GET');
    expect(res).toEqual({ status: 200, text: '8147297539112093' });
  });
});

describe('item 13: idempotencyKey is per caller', () => {
  const IMPORT = graphql(
    `mutation IdempotentImport($rows: [ImportUserRow!]) { importUsers(mode: SYNC, rows: $rows, idempotencyKey: "nightly-sync") { __typename ... on MutationImportUsersSuccess { data { id total } } } }`,
  );
  const JOB = graphql(`query IdempotentJob($id: ID!) { importJob(id: $id) { status } }`);

  item13("a second admin with the same key gets its own job, not the first admin's", async ({ service: s, execute }) => {
    await s.wecom.resetStats();
    const one = await execute(
      IMPORT,
      { rows: [{ userid: 'idem.one', name: '一号', departmentIds: [2], mobile: '13900003331' }] },
      withKey(adminOne),
    );
    // WeCom runs one import at a time (302008): the second caller's import waits for the first to finish.
    await expect
      .poll(async () => (await execute(JOB, { id: success(one.data!.importUsers).data.id }, withKey(adminOne))).data!.importJob!.status, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe('FINISHED');
    const two = await execute(
      IMPORT,
      {
        rows: [
          { userid: 'idem.two', name: '二号', departmentIds: [2], mobile: '13900003332' },
          { userid: 'idem.three', name: '三号', departmentIds: [2], mobile: '13900003333' },
        ],
      },
      withKey(adminTwo),
    );
    expect(one.data!.importUsers.__typename).toBe('MutationImportUsersSuccess');
    expect(two.data!.importUsers.__typename).toBe('MutationImportUsersSuccess');
    expect(success(two.data!.importUsers).data.id).not.toBe(success(one.data!.importUsers).data.id);
    expect(success(two.data!.importUsers).data.total).toBe(2);
    expect((await s.calls())['/cgi-bin/batch/syncuser']).toBe(2);
    // The same caller retrying with its key still gets its own job back.
    const retry = await execute(
      IMPORT,
      { rows: [{ userid: 'idem.one', name: '一号', departmentIds: [2], mobile: '13900003331' }] },
      withKey(adminOne),
    );
    expect(success(retry.data!.importUsers).data.id).toBe(success(one.data!.importUsers).data.id);
    expect((await s.calls())['/cgi-bin/batch/syncuser']).toBe(2);
  });
});

describe('item 7: open subscriptions per caller', () => {
  const SUBSCRIBE = 'subscription { contactChanged { kind } }';

  item7('one more than the cap is refused; closing one makes room again', async ({ service: s }) => {
    const open = () => SseSubscription.open((url, init) => fetch(url, init), `${s.url}/graphql`, SUBSCRIBE);
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
  const member = async (execute: Execute): Promise<string> => {
    const res = await execute(
      graphql(
        `query SubtreeWriterMember { department(id: 2) { members(recursive: true, first: 500) { nodes { userid departments { id } } } } }`,
      ),
      {},
      withKey(rdWriter5),
    );
    return res.data!.department!.members.nodes[0]!.userid;
  };

  item5.for(['addTagMembers', 'removeTagMembers'])(
    "%s on it is refused before any write, without the tag's name",
    async (field, { service: s, execute, tagid }) => {
      const userid = await member(execute);
      await s.wecom.resetStats();
      // The field is the case's: the text is built from it.
      const res = await post(
        s,
        {
          query: `mutation { ${field}(tagId: ${tagid}, userids: ["${userid}"]) { __typename ... on Error { message } ... on Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success { data { tag { name } } } } }`,
        },
        withKey(rdWriter5),
      );
      expect(res.body.data![field]).toEqual({
        __typename: 'PermissionDeniedError',
        message: `tagId: tag ${tagid} is outside the departments this credential may change`,
      });
      expect(JSON.stringify(res.body)).not.toContain('全公司机密标签');
      expect(await writeCalls(s)).toEqual({});
    },
  );

  item5('a tag that does not exist gets the same answer', async ({ execute }) => {
    const res = await execute(
      graphql(
        `mutation SubtreeRemoveFromMissingTag { removeTagMembers(tagId: 9999, userids: ["nobody"]) { __typename ... on Error { message } } }`,
      ),
      {},
      withKey(rdWriter5),
    );
    expect(res.data!.removeTagMembers).toEqual({
      __typename: 'PermissionDeniedError',
      message: 'tagId: tag 9999 is outside the departments this credential may change',
    });
  });
});

describe('item 10: a subtree key does not see the parent of its top', () => {
  item10('its top has parentId 0 and no parent, like a root; departments below keep theirs', async ({ execute }) => {
    const res = await execute(
      graphql(`query SubtreeTop { department(id: 2) { parentId parent { departmentId } children { departmentId parentId } } }`),
      {},
      withKey(rdReader10),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.department).toMatchObject({ parentId: 0, parent: null });
    expect(res.data!.department!.children.length).toBeGreaterThan(0);
    for (const child of res.data!.department!.children) expect(child.parentId).toBe(2);
  });
});
