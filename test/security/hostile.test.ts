import { describe, expect } from 'vitest';
import { ERROR_FIELDS } from '../helpers/mutations.ts';
import { type CallbackSender, nowSeconds, send } from '../helpers/callback-sender.ts';
import { DEFAULT_QUERY_LIMITS } from '../../src/security/settings.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import { ALL, type Answer, firstError, jsonOf, keysOnly, post, senderFor, testKey, withKey, writeCalls } from './helpers.ts';

/**
 * The hostile-input suite: what an attacker (or a broken client) sends, and what the service
 * answers. Each case asserts a clear error (a code or a typed error naming the field) and that
 * WeCom saw no write. The service runs with its production protections: API keys, CSRF
 * prevention, default limits and a rate limit.
 */

const admin = testKey('admin', ALL);

// Each test counts its own upstream calls and sees only the changes published during it.
const it = serviceTest({
  listen: true,
  callback: true,
  security: {
    ...keysOnly([admin]),
    csrf: true,
    rateLimit: { requestsPerMinute: 6_000, requestBurst: 1_000, mutationsPerMinute: 600, mutationBurst: 100 },
  },
})
  /** Sends a request as the admin, as text: the text (or its variables) is what is under test. */
  .extend(
    'gql',
    { scope: 'file' },
    async ({ service }) =>
      (query: string, variables?: Record<string, unknown>) =>
        post(service, { query, variables }, withKey(admin)),
  )
  /** WeCom saw no write and nothing was published. */
  .extend('expectNoWrite', async ({ service, published }) => async (): Promise<void> => {
    expect(await writeCalls(service)).toEqual({});
    expect(published).toEqual([]);
  })
  /** The request failed with one error of this code, WeCom saw no write and nothing was published. */
  .extend('expectRefusedWithCode', async ({ expectNoWrite }) => async (res: { body: Answer }, code: string): Promise<void> => {
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    await expectNoWrite();
  });

/** Anonymous callers with every scope (the default start) and CSRF prevention: where forged requests matter most. */
const openIt = serviceTest({ listen: true, security: { csrf: true } }, { resetStats: false });

describe('query bombs', () => {
  it('a depth bomb (parent of parent of … 200 deep) is QUERY_TOO_DEEP', async ({ service, gql, expectRefusedWithCode }) => {
    const res = await gql(`{ department(id: 3) { ${'parent { '.repeat(80)}name${' }'.repeat(80)} } }`);
    await expectRefusedWithCode(res, 'QUERY_TOO_DEEP');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('an alias bomb (200 aliases of the whole tree) is TOO_MANY_ALIASES', async ({ service, gql, expectRefusedWithCode }) => {
    const res = await gql(`{ ${Array.from({ length: 200 }, (_, i) => `d${i}: departments { name }`).join(' ')} }`);
    await expectRefusedWithCode(res, 'TOO_MANY_ALIASES');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('a list bomb (nested children with members) is QUERY_TOO_COSTLY', async ({ service, gql, expectRefusedWithCode }) => {
    const res = await gql(
      `{ departments { children { children { members(first: 500) { nodes { directReports { tags { users { userid } } } } } } } } }`,
    );
    await expectRefusedWithCode(res, 'QUERY_TOO_COSTLY');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('recursive fragments are refused by validation', async ({ gql, expectRefusedWithCode }) => {
    const res = await gql(
      `{ department(id: 1) { ...A } } fragment A on Department { children { ...B } } fragment B on Department { parent { ...A } }`,
    );
    await expectRefusedWithCode(res, 'GRAPHQL_VALIDATION_FAILED');
    expect(firstError(res.body).message).toBe('Cannot spread fragment "A" within itself via "B".');
  });

  it('a fragment that spreads itself directly is refused', async ({ gql, expectRefusedWithCode }) => {
    const res = await gql(`{ department(id: 1) { ...A } } fragment A on Department { name ...A }`);
    await expectRefusedWithCode(res, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('a fragment fan-out (each fragment spreads the previous twice: 2^40 fields when expanded) is refused quickly', async ({
    gql,
    expectRefusedWithCode,
  }) => {
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Department { parent { ...F${i} ...F${i} } }`).join(' ');
    const started = Date.now();
    const res = await gql(`{ department(id: 3) { ...F40 } } fragment F0 on Department { name } ${fragments}`);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expectRefusedWithCode(res, 'QUERY_TOO_DEEP');
  });

  it('a directive flood is TOO_MANY_DIRECTIVES; the same directive repeated is a validation error', async ({
    gql,
    expectNoWrite,
    expectRefusedWithCode,
  }) => {
    const flood = await gql(`{ ${'... on Query @skip(if: false) { __typename } '.repeat(100)}}`);
    await expectRefusedWithCode(flood, 'TOO_MANY_DIRECTIVES');
    const repeated = await gql(`{ __typename ${'@include(if: true) '.repeat(5)}}`);
    expect(firstError(repeated.body).message).toBe('The directive "@include" can only be used once at this location.');
    await expectNoWrite();
  });

  it('a query text of a megabyte is QUERY_TOO_LONG before parsing', async ({ gql, expectRefusedWithCode }) => {
    const res = await gql(`{ __typename ${' '.repeat(1_000_000)}}`);
    expect(res.status).toBe(413);
    await expectRefusedWithCode(res, 'QUERY_TOO_LONG');
  });
});

describe('huge variables and lists', () => {
  it('a list of 100,000 userids is LIST_TOO_LONG', async ({ service, gql, expectRefusedWithCode }) => {
    const userids = Array.from({ length: 100_000 }, (_, i) => `u${i}`);
    const res = await gql('query($ids: [String!]!) { users(userids: $ids) { userid } }', { ids: userids });
    await expectRefusedWithCode(res, 'LIST_TOO_LONG');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('deleteUsers with 100,000 userids is LIST_TOO_LONG, nothing deleted', async ({ gql, expectRefusedWithCode }) => {
    const res = await gql('mutation($ids: [String!]!) { deleteUsers(userids: $ids) { __typename } }', {
      ids: Array.from({ length: 100_000 }, (_, i) => `u${i}`),
    });
    await expectRefusedWithCode(res, 'LIST_TOO_LONG');
  });

  it('201 userids to deleteUsers gives the typed ValidationError (WeCom takes 200)', async ({ gql, expectNoWrite }) => {
    const res = await gql(`mutation($ids: [String!]!) { deleteUsers(userids: $ids) { __typename ...ErrorFields } } ${ERROR_FIELDS}`, {
      ids: Array.from({ length: 201 }, (_, i) => `u${i}`),
    });
    expect(res.body.data!.deleteUsers).toMatchObject({ __typename: 'ValidationError', field: 'userids', errcode: null });
    await expectNoWrite();
  });

  it('import rows beyond the bound are LIST_TOO_LONG', async ({ startService }) => {
    const rows = Array.from({ length: 50_001 }, (_, i) => ({ userid: `r${i}`, name: 'x', departmentIds: [2], mobile: '1' }));
    const big = await startService({
      security: { ...keysOnly([admin]), http: { maxBodyBytes: 64 * 1024 * 1024, maxFileBytes: 20 * 1024 * 1024, maxFiles: 1 } },
    });
    const res = await post(
      big,
      { query: 'mutation($rows: [ImportUserRow!]!) { importUsers(mode: SYNC, rows: $rows) { __typename } }', variables: { rows } },
      withKey(admin),
    );
    expect(firstError(res.body).extensions.code).toBe('LIST_TOO_LONG');
    expect(firstError(res.body).message).toBe('Mutation.importUsers(rows:): at most 50000 items per list (got 50001)');
    expect(await big.calls()).toEqual({});
  });

  it('variables nested 10,000 arrays deep are refused before coercion (400), not a crash', async ({ service, expectNoWrite }) => {
    const deep = `${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`;
    const body = `{"query":"query($ids: [String!]!) { users(userids: $ids) { userid } }","variables":{"ids":${deep}}}`;
    const res = await post(service, body, withKey(admin));
    expect(res.status).toBe(400);
    expect(firstError(res.body).extensions.code).toBe('VARIABLES_TOO_NESTED');
    await expectNoWrite();
  });

  it('a body over the limit is 413 before it is read (5 MB of variables)', async ({ service, expectNoWrite }) => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(6 * 1024 * 1024) } });
    const res = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...withKey(admin) },
      body,
    });
    expect(res.status).toBe(413);
    expect(firstError(await jsonOf(res)).extensions.code).toBe('REQUEST_TOO_LARGE');
    await expectNoWrite();
  });

  it('a malformed JSON body is a clear 400', async ({ service }) => {
    const res = await post(service, '{"query": "{ __typename }"', withKey(admin));
    expect(res.status).toBe(400);
    expect(firstError(res.body).message).toMatch(/POST body sent invalid JSON/);
  });
});

describe('invalid and smuggling userids', () => {
  const BAD = [
    'a&access_token=x',
    '../etc/passwd',
    'a\u0000b',
    'x'.repeat(65),
    '',
    ' leading',
    'a b',
    '张三',
    'a%26access_token%3Dx',
    'a?debug=1',
    'a/../../cgi-bin/user/delete',
  ];

  it.for(BAD.map((u) => [JSON.stringify(u), u] as const))(
    'user(userid: %s) is BAD_USER_INPUT without a WeCom call',
    async ([_label, userid], { service, gql, expectNoWrite }) => {
      const res = await gql('query($u: String!) { user(userid: $u) { userid } }', { u: userid });
      expect(firstError(res.body)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'userid' } });
      expect(firstError(res.body).message).toMatch(/^userid: not a WeCom userid/);
      const calls = await service.calls();
      expect(calls['/cgi-bin/user/get']).toBeUndefined();
      await expectNoWrite();
    },
  );

  it.for(BAD.map((u) => [JSON.stringify(u), u] as const))(
    'deleteUser(userid: %s) is a ValidationError, nothing deleted',
    async ([_label, userid], { service, gql, expectNoWrite }) => {
      const res = await gql(`mutation($u: String!) { deleteUser(userid: $u) { __typename ...ErrorFields } } ${ERROR_FIELDS}`, {
        u: userid,
      });
      expect(res.body.data!.deleteUser).toMatchObject({ __typename: 'ValidationError', field: 'userid', errcode: null });
      expect((await service.wecom.stats()).total).toBe(0);
      await expectNoWrite();
    },
  );

  it('a smuggling userid inside users(userids) names its position', async ({ service, gql }) => {
    const res = await gql('query($ids: [String!]!) { users(userids: $ids) { userid } }', { ids: ['xiegang', 'a&access_token=x'] });
    expect(firstError(res.body)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'userids[1]' } });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('createUser with a smuggling userid or leader is a ValidationError naming the field', async ({ gql, expectNoWrite }) => {
    const res = await gql(`mutation($i: CreateUserInput!) { createUser(input: $i) { __typename ...ErrorFields } } ${ERROR_FIELDS}`, {
      i: { userid: 'ok.user', name: 'x', departmentIds: [2], mobile: '13900000000', directLeaderUserids: ['boss&access_token=x'] },
    });
    expect(res.body.data!.createUser).toMatchObject({ __typename: 'ValidationError', field: 'input.directLeaderUserids[0]' });
    await expectNoWrite();
  });
});

describe('bad department ids', () => {
  it.for([
    ['0', 0],
    ['negative', -5],
  ] as const)('a %s id: lookups find nothing, writes are ValidationErrors', async ([_label, id], { gql, expectNoWrite }) => {
    const read = await gql(`{ department(id: ${id}) { name } }`);
    expect(read.body).toEqual({ data: { department: null } });
    const write = await gql(`mutation { deleteDepartment(departmentId: ${id}) { __typename ...ErrorFields } } ${ERROR_FIELDS}`);
    expect(write.body.data!.deleteDepartment).toMatchObject({ __typename: 'ValidationError', field: 'departmentId', errcode: null });
    const create = await gql(
      `mutation { createDepartment(input: { name: "坏", parentId: ${id} }) { __typename ...ErrorFields } } ${ERROR_FIELDS}`,
    );
    expect(create.body.data!.createDepartment).toMatchObject({ __typename: 'ValidationError', field: 'input.parentId' });
    await expectNoWrite();
  });

  it.for([
    ['2^53', '9007199254740992'],
    ['2^31', '2147483648'],
    ['a float', '2.5'],
    ['a string', '"2"'],
    ['exponent notation', '1e3'],
  ] as const)('%s is refused by GraphQL’s Int before anything runs', async ([_label, literal], { service, gql }) => {
    const res = await gql(`{ department(id: ${literal}) { name } }`);
    expect(firstError(res.body).message).toMatch(/^Int cannot represent/);
    expect(firstError(res.body).extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const viaVariable = await gql('query($id: Int!) { department(id: $id) { name } }', { id: 2.5 });
    expect(firstError(viaVariable.body).message).toMatch(/^Variable "\$id" got invalid value/);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('2^53 in a department id list of a mutation is refused before anything runs', async ({ gql, expectNoWrite }) => {
    const res = await gql('mutation($i: CreateUserInput!) { createUser(input: $i) { __typename } }', {
      i: { userid: 'x1', name: 'x', departmentIds: [2 ** 53], mobile: '13900000000' },
    });
    expect(firstError(res.body).message).toMatch(
      /^Variable "\$i" got invalid value 9007199254740992 at "i.departmentIds\[0\]"; Int cannot represent non 32-bit signed integer value/,
    );
    await expectNoWrite();
  });
});

describe('pagination abuse', () => {
  it.for([
    ['first: -1', '{ searchUsers(query: "a", first: -1) { totalCount } }'],
    ['first beyond the page size', '{ searchUsers(query: "a", first: 100000) { totalCount } }'],
    ['last beyond the page size on members', '{ department(id: 1) { members(last: 501) { totalCount } } }'],
    ['userIds first beyond WeCom’s page', '{ userIds(first: 100001) { totalCount } }'],
    ['userIds with a forged cursor', '{ userIds(after: "W10") { totalCount } }'],
    ['directoryChanges first beyond the page', '{ directoryChanges(first: 100000) { hasMore } }'],
    ['directoryChanges with a forged cursor', '{ directoryChanges(since: "Zm9yZ2Vk") { hasMore } }'],
  ] as const)('%s is a clear error', async ([_label, query], { gql, expectNoWrite }) => {
    const res = await gql(query);
    expect(res.body.errors).toHaveLength(1);
    expect(firstError(res.body).message).not.toBe('Unexpected error.');
    expect(firstError(res.body).extensions.code).toBe('BAD_USER_INPUT');
    await expectNoWrite();
  });

  it('a page bound violation names the argument and the bound, before any upstream call', async ({ service, gql }) => {
    const res = await gql('{ searchUsers(query: "a", first: 100000) { totalCount } }');
    expect(firstError(res.body).message).toBe('Query.searchUsers(first:): must be 0 to 500 (got 100000)');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('a forged search cursor is refused with a message, not masked', async ({ gql, expectNoWrite }) => {
    const res = await gql('{ searchUsers(query: "a", after: "bm90LWEtY3Vyc29y") { totalCount } }');
    expect(firstError(res.body).message).toBe('Invalid offset cursor OffsetConnection:');
    await expectNoWrite();
  });
});

describe('mutation floods', () => {
  it('100 aliased mutations in one request are refused outright', async ({ startService }) => {
    const flood = await startService({
      security: {
        ...keysOnly([admin]),
        rateLimit: { requestsPerMinute: 600, requestBurst: 100, mutationsPerMinute: 30, mutationBurst: 10 },
      },
    });
    const query = `mutation { ${Array.from({ length: 100 }, (_, i) => `m${i}: createUser(input: { userid: "flood${i}", name: "洪水", departmentIds: [2], mobile: "139000${String(i).padStart(5, '0')}" }) { __typename }`).join(' ')} }`;
    // 100 aliases exceed the alias limit before the mutation budget is even asked.
    const res = await post(flood, { query }, withKey(admin));
    expect(firstError(res.body).extensions.code).toBe('TOO_MANY_ALIASES');
    const eleven = `mutation { ${Array.from({ length: 11 }, (_, i) => `m${i}: createUser(input: { userid: "flood${i}", name: "洪水", departmentIds: [2], mobile: "139000${String(i).padStart(5, '0')}" }) { __typename }`).join(' ')} }`;
    const res11 = await post(flood, { query: eleven }, withKey(admin));
    expect(res11.status).toBe(400);
    expect(firstError(res11.body).extensions.code).toBe('TOO_MANY_MUTATIONS');
    expect(await flood.calls()).toEqual({});
  });

  it('a flood of single mutations is cut at the caller’s budget: the rest get 429 and never reach WeCom', async ({ startService }) => {
    const flood = await startService({
      security: { ...keysOnly([admin]), rateLimit: { requestsPerMinute: 600, requestBurst: 100, mutationsPerMinute: 6, mutationBurst: 5 } },
    });
    const results = [];
    for (let i = 0; i < 20; i++) {
      results.push(
        await post(
          flood,
          {
            query: `mutation { createUser(input: { userid: "wave${i}", name: "洪水", departmentIds: [2], mobile: "138000${String(i).padStart(5, '0')}" }) { __typename } }`,
          },
          withKey(admin),
        ),
      );
    }
    expect(results.map((r) => r.status)).toEqual([...Array(5).fill(200), ...Array(15).fill(429)]);
    for (const r of results.slice(5)) {
      expect(firstError(r.body).extensions.code).toBe('RATE_LIMITED');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await flood.calls())['/cgi-bin/user/create']).toBe(5);
    for (let i = 5; i < 20; i++) expect((await flood.wecom.console('user/get', { userid: `wave${i}` })).json.errcode).toBe(60111);
  });
});

describe('CSRF attempts (anonymous full access, where they matter most)', () => {
  const MUTATION = 'mutation { deleteUser(userid: "xiegang") { __typename } }';

  openIt.for([
    ['an HTML form post', 'application/x-www-form-urlencoded', `query=${encodeURIComponent(MUTATION)}`],
    ['a text/plain post of JSON', 'text/plain', JSON.stringify({ query: MUTATION })],
  ] as const)('%s is refused with 403 and deletes nobody', async ([_label, contentType, body], { service: open }) => {
    await open.wecom.resetStats();
    const res = await fetch(`${open.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(res.status).toBe(403);
    expect(firstError(await jsonOf(res)).message).toBe('Required CSRF header(s) not present');
    expect(await open.calls()).toEqual({});
    expect((await open.wecom.console('user/get', { userid: 'xiegang' })).json.errcode).toBe(0);
  });

  openIt('a multipart form post (a "simple" request) is refused with 403', async ({ service: open }) => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: MUTATION }));
    form.append('map', '{}');
    const res = await fetch(`${open.url}/graphql`, { method: 'POST', body: form });
    expect(res.status).toBe(403);
    expect(await open.calls()).toEqual({});
  });

  openIt('a GET (an <img> or a link) is refused with 403, and a mutation over GET never runs', async ({ service: open }) => {
    const res = await fetch(`${open.url}/graphql?query=${encodeURIComponent(MUTATION)}`);
    expect(res.status).toBe(403);
    const preflighted = await fetch(`${open.url}/graphql?query=${encodeURIComponent(MUTATION)}`, {
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    expect(preflighted.status).toBe(405);
    expect(await open.calls()).toEqual({});
  });
});

describe('uploads', () => {
  const IMPORT = 'mutation($file: File!) { importUsers(mode: SYNC, file: $file) { __typename ...ErrorFields } }';

  function form(files: Blob[], operations?: string, map?: string): FormData {
    const f = new FormData();
    f.append('operations', operations ?? JSON.stringify({ query: `${IMPORT} ${ERROR_FIELDS}`, variables: { file: null } }));
    f.append(
      'map',
      map ?? JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [i === 0 ? 'variables.file' : `variables.extra${i}`]]))),
    );
    for (const [i, file] of files.entries()) f.append(String(i), file, `f${i}.csv`);
    return f;
  }

  const upload = (service: ServiceHarness, body: FormData) =>
    fetch(`${service.url}/graphql`, { method: 'POST', headers: { ...withKey(admin), 'x-graphql-yoga-csrf': '1' }, body });

  it('an upload over 20 MB (plus the form) is 413 before it is read', async ({ service }) => {
    const res = await upload(service, form([new Blob([Buffer.alloc(22 * 1024 * 1024, 0x41)])]));
    expect(res.status).toBe(413);
    expect(firstError(await jsonOf(res)).extensions.code).toBe('REQUEST_TOO_LARGE');
    expect(await service.calls()).toEqual({});
  });

  it('two files in one request are TOO_MANY_FILES', async ({ service }) => {
    const res = await upload(service, form([new Blob(['a,b\n']), new Blob(['c,d\n'])]));
    expect(res.status).toBe(400);
    expect(firstError(await jsonOf(res)).extensions.code).toBe('TOO_MANY_FILES');
    expect(await service.calls()).toEqual({});
  });

  it('a binary file that is not a member CSV is a ValidationError, nothing uploaded to WeCom', async ({ service, expectNoWrite }) => {
    const res = await upload(service, form([new Blob([Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06])])]));
    const body = await jsonOf(res);
    expect(body.data!.importUsers).toMatchObject({ __typename: 'ValidationError', field: 'file' });
    await expectNoWrite();
  });

  it.for([
    ['operations that are not JSON', 'not json', undefined, 'Multipart form field "operations" must be a valid JSON string'],
    ['a map that is not JSON', undefined, '{', 'Multipart form field "map" must be a valid JSON string'],
    [
      'a map pointing at a file that was not sent',
      undefined,
      JSON.stringify({ 7: ['variables.file'] }),
      'Variable "$file" of non-null type "File!" must not be null.',
    ],
  ] as const)('%s is a clear error, nothing uploaded', async ([_label, operations, map, message], { service, expectNoWrite }) => {
    const res = await upload(service, form([new Blob(['姓名,帐号\n'])], operations, map));
    const body = await jsonOf(res);
    expect(firstError(body).message).toBe(message);
    expect(body.data ?? null).toBeNull();
    expect(await service.calls()).toEqual({});
    await expectNoWrite();
  });

  it('a multipart body cut off in the middle is a clear error', async ({ service, expectNoWrite }) => {
    const boundary = 'XBOUNDARY';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{`;
    const res = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { ...withKey(admin), 'x-graphql-yoga-csrf': '1', 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await expectNoWrite();
  });
});

describe('forged callbacks', () => {
  const event = (sender: CallbackSender) => sender.changeContact('delete_user', { UserID: 'xiegang' });

  it.for([
    ['a forged signature', (sender: CallbackSender) => sender.post(event(sender), { signature: 'f'.repeat(40) }), 403, 'bad_signature'],
    [
      'a signature made with another token',
      (sender: CallbackSender) => sender.post(event(sender), { token: 'AnotherToken1' }),
      403,
      'bad_signature',
    ],
    [
      'a replayed old message',
      (sender: CallbackSender) => sender.post(event(sender), { timestamp: nowSeconds() - 3_600 }),
      403,
      'stale_timestamp',
    ],
    [
      'a message sealed for another corp',
      (sender: CallbackSender) => sender.post(event(sender), { receiveId: 'wwOtherCorp' }),
      403,
      'wrong_receiveid',
    ],
  ] as const)('%s is refused and changes nothing', async ([_label, make, status, reason], { service, expectNoWrite }) => {
    const res = await send(service.url, make(senderFor(service.wecom)));
    expect(res).toEqual({ status, text: reason });
    await service.app.callback!.idle();
    await expectNoWrite();
    expect((await service.wecom.console('user/get', { userid: 'xiegang' })).json.errcode).toBe(0);
  });

  it('a callback body over the limit is refused with 413', async ({ service, expectNoWrite }) => {
    const huge = senderFor(service.wecom).envelope('A'.repeat(200 * 1024));
    const res = await send(service.url, huge);
    expect(res.status).toBe(413);
    await expectNoWrite();
  });
});

it('the default limits are the ones documented', () => {
  expect(DEFAULT_QUERY_LIMITS).toEqual({
    maxDepth: 12,
    maxAliases: 20,
    maxDirectives: 20,
    maxTokens: 3_000,
    maxCharacters: 20_000,
    maxCost: 500_000,
    maxListItems: 1_000,
    maxUpstreamCalls: 300,
    maxResponseBytes: 16 * 1024 * 1024,
    maxExecutionMs: 30_000,
    maxSubscriptionsPerCaller: 10,
  });
});
