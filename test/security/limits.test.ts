import { request as httpRequest } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { getNamedType, isInputObjectType, isListType, isNonNullType, isObjectType, parse, type GraphQLInputType } from 'graphql';
import { describe, expect, test } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { LIST_ARGUMENT_BOUNDS, checkListArguments } from '../../src/security/list-bounds.ts';
import { DEFAULT_QUERY_LIMITS } from '../../src/security/settings.ts';
import { serverOptions } from '../../src/security/http-server.ts';
import { MAX_QUERY_NESTING } from '../../src/security/query-limits.ts';
import { DEFAULT_PERSISTED_OPERATIONS_FILE, loadPersistedOperations } from '../../src/security/persisted.ts';
import { pino } from 'pino';
import { ServiceHarness } from '../helpers/service.ts';
import type { DepartmentDashboardQuery } from '../../examples/generated/graphql.ts';
import type { TypedResult } from '../testkit/execute.ts';
import { ownServiceTest, serviceTest } from '../testkit/service.ts';
import { createApp } from '../../src/server.ts';
import { ChangeBus } from '../../src/directory/changes.ts';
import { ALL, answerToUnfinished, firstError, keysOnly, post, testKey, withKey } from './helpers.ts';

/**
 * Query and request limits, each enforced before execution (no upstream call): depth, aliases,
 * directives, tokens, characters, cost, list arguments, batching, field suggestions,
 * introspection, GraphiQL, persisted operations, CSRF, body and upload limits, the listener's
 * timeouts, and per-caller rate limits (429 with Retry-After).
 */

const admin = testKey('admin', ALL);
const other = testKey('other', ALL);
const it = serviceTest({ listen: true, security: { ...keysOnly([admin, other]), csrf: true } }, { resetStats: false });

/** Rate limits of their own: the file's service keeps no budget that another test spent. */
const limitedIt = serviceTest(
  {
    security: {
      ...keysOnly([admin, other]),
      rateLimit: { requestsPerMinute: 60, requestBurst: 5, mutationsPerMinute: 6, mutationBurst: 3 },
    },
  },
  { resetStats: false },
);

/** A service that runs persisted operations only, with the store generated from examples/. */
const persistedIt = test.extend(
  'persisted',
  { scope: 'file' },
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  async ({}, { onCleanup }): Promise<{ service: ServiceHarness; store: Map<string, string> }> => {
    // The store is generated from examples/ by `npm run codegen` (npm test runs it first).
    if (!existsSync(DEFAULT_PERSISTED_OPERATIONS_FILE)) {
      const { generate } = await import('@graphql-codegen/cli');
      const { default: config } = await import('../../codegen.ts');
      await generate(config, true);
    }
    const store = loadPersistedOperations(DEFAULT_PERSISTED_OPERATIONS_FILE);
    const service = await ServiceHarness.start({ security: { ...keysOnly([admin]), persistedOperations: store } });
    onCleanup(() => service.close());
    return { service, store };
  },
);

/** The query (its text is what is under test) is refused with `code` before anything runs. */
async function refused(service: ServiceHarness, query: string, code: string, variables?: Record<string, unknown>) {
  await service.wecom.resetStats();
  const res = await post(service, { query, variables }, withKey(admin));
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toHaveLength(1);
  expect(firstError(res.body).extensions.code).toBe(code);
  expect((await service.wecom.stats()).total).toBe(0);
  return res;
}

/** A selection `depth` levels deep along `parent` (not a list, so its cost stays small). */
const nest = (depth: number) => `{ department(id: 3) { ${'parent { '.repeat(depth - 2)}name${' }'.repeat(depth - 2)} } }`;

describe('query limits', () => {
  it('depth: at the limit runs, one deeper is QUERY_TOO_DEEP', async ({ service }) => {
    const ok = await post(service, { query: nest(DEFAULT_QUERY_LIMITS.maxDepth) }, withKey(admin));
    expect(ok.body.errors).toBeUndefined();
    const res = await refused(service, nest(DEFAULT_QUERY_LIMITS.maxDepth + 1), 'QUERY_TOO_DEEP');
    expect(firstError(res.body).message).toBe(
      `Query depth exceeds the limit of ${DEFAULT_QUERY_LIMITS.maxDepth} (found ${DEFAULT_QUERY_LIMITS.maxDepth + 1})`,
    );
  });

  it('depth counts through fragments', async ({ service }) => {
    const inner =
      'fragment F on Department { children { children { children { children { children { children { children { children { children { children { children { name } } } } } } } } } } } }';
    await refused(service, `{ department(id: 1) { ...F } } ${inner}`, 'QUERY_TOO_DEEP');
  });

  it('aliases: more than the limit is TOO_MANY_ALIASES', async ({ service }) => {
    // (Aliases of __typename are free: GraphQL Armor's allow-list.)
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: department(id: 1) { name }`).join(' ')} }`;
    expect((await post(service, { query: aliases(DEFAULT_QUERY_LIMITS.maxAliases) }, withKey(admin))).body.errors).toBeUndefined();
    const res = await refused(service, aliases(DEFAULT_QUERY_LIMITS.maxAliases + 1), 'TOO_MANY_ALIASES');
    expect(firstError(res.body).message).toBe(
      `Aliases exceeds the limit of ${DEFAULT_QUERY_LIMITS.maxAliases} (found ${DEFAULT_QUERY_LIMITS.maxAliases + 1})`,
    );
  });

  it('directives: more than the limit is TOO_MANY_DIRECTIVES', async ({ service }) => {
    const directives = (n: number) => `{ ${'... on Query @include(if: true) { __typename } '.repeat(n)}}`;
    expect((await post(service, { query: directives(DEFAULT_QUERY_LIMITS.maxDirectives) }, withKey(admin))).body.errors).toBeUndefined();
    await refused(service, directives(DEFAULT_QUERY_LIMITS.maxDirectives + 1), 'TOO_MANY_DIRECTIVES');
  });

  it('tokens: a document past the token limit fails while parsing', async ({ service }) => {
    const query = `{ department(id: 1) { name } nodes(ids: [${'"a" '.repeat(DEFAULT_QUERY_LIMITS.maxTokens)}]) { id } }`;
    expect(query.length).toBeLessThan(DEFAULT_QUERY_LIMITS.maxCharacters);
    await service.wecom.resetStats();
    const res = await post(service, { query }, withKey(admin));
    expect(firstError(res.body).message).toBe(`Syntax Error: Token limit of ${DEFAULT_QUERY_LIMITS.maxTokens} exceeded.`);
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('nesting: brackets nested deeper than the parser can take are QUERY_TOO_NESTED, before parsing', async ({ service }) => {
    const query = `{ nodes(ids: ${'['.repeat(5_000)}${']'.repeat(5_000)}) { id } }`;
    const res = await refused(service, query, 'QUERY_TOO_NESTED');
    expect(firstError(res.body).message).toBe(`The query nests brackets 5002 levels deep; at most ${MAX_QUERY_NESTING} are accepted`);
  });

  it('characters: a query text longer than the limit is QUERY_TOO_LONG (413), before parsing', async ({ service }) => {
    const query = `{ __typename } # ${'x'.repeat(DEFAULT_QUERY_LIMITS.maxCharacters)}`;
    const res = await post(service, { query }, withKey(admin));
    expect(res.status).toBe(413);
    expect(firstError(res.body)).toMatchObject({ extensions: { code: 'QUERY_TOO_LONG', limit: DEFAULT_QUERY_LIMITS.maxCharacters } });
  });

  it('cost: nested lists multiply, and `first` sets a connection’s multiplier', async ({ service }) => {
    // 2 levels of children (×10 each) × members(first: 500) × (nodes' fields …): within the limit.
    const heavy = (first: number) =>
      `{ department(id: 1) { children { children { members(first: ${first}) { nodes { userid directReports { directReports { userid } } } } } } } }`;
    const res = await refused(service, heavy(500), 'QUERY_TOO_COSTLY');
    expect(firstError(res.body).extensions.cost).toBeGreaterThan(DEFAULT_QUERY_LIMITS.maxCost);
    expect(firstError(res.body).message).toMatch(/^The query's estimated cost is \d+; at most 500000 is accepted/);
    const small = await post(service, { query: heavy(5) }, withKey(admin));
    expect(small.body.errors).toBeUndefined();
  });

  it('cost: id lists multiply by their length (users(userids) and nodes(ids))', async ({ service }) => {
    const ids = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const query = `query($ids: [String!]!) { users(userids: $ids) { directReports { directReports { directReports { directReports { userid } } } } } }`;
    const res = await refused(service, query, 'QUERY_TOO_COSTLY', { ids });
    expect(firstError(res.body).extensions.cost).toBeGreaterThan(200 * 1000);
  });

  it('list arguments: a list longer than its bound is LIST_TOO_LONG, before anything runs', async ({ service }) => {
    const ids = Array.from({ length: LIST_ARGUMENT_BOUNDS['Query.nodes.ids']! + 1 }, (_, i) => `id${i}`);
    const res = await refused(service, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', 'LIST_TOO_LONG', { ids });
    expect(firstError(res.body).message).toBe(`Query.nodes(ids:): at most 200 items per list (got 201)`);
    expect(res.status).toBe(400);
  });

  it('list arguments nested in inputs are bounded too', async ({ service }) => {
    const departmentIds = Array.from({ length: DEFAULT_QUERY_LIMITS.maxListItems + 1 }, (_, i) => i + 1);
    const res = await refused(service, 'mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }', 'LIST_TOO_LONG', {
      input: { userid: 'x', name: 'x', departmentIds, mobile: '13900000000' },
    });
    expect(firstError(res.body).message).toBe(
      `Mutation.createUser(input:).departmentIds: at most ${DEFAULT_QUERY_LIMITS.maxListItems} items per list (got ${DEFAULT_QUERY_LIMITS.maxListItems + 1})`,
    );
  });

  it('every list argument of the schema, at the top or nested in an input, is bounded', () => {
    const rootType = (name: string) => {
      const type = schema.getType(name);
      if (!isObjectType(type)) throw new Error(`no ${name} type`);
      return type;
    };
    // For each root field, each list-typed argument or input field gets one item more than its bound.
    const cases: { label: string; operation: string; variables: Record<string, unknown> }[] = [];
    const sample = (type: GraphQLInputType): unknown =>
      isInputObjectType(getNamedType(type)) ? {} : getNamedType(type).name === 'String' || getNamedType(type).name === 'ID' ? 'x' : 1;
    const visitType = (
      root: string,
      field: string,
      arg: string,
      type: GraphQLInputType,
      key: string,
      wrap: (v: unknown) => unknown,
      seen: Set<string>,
    ) => {
      const inner = isNonNullType(type) ? type.ofType : type;
      if (isListType(inner)) {
        const bound = LIST_ARGUMENT_BOUNDS[key] ?? DEFAULT_QUERY_LIMITS.maxListItems;
        const argDef = rootType(root)
          .getFields()
          [field]!.args.find((a) => a.name === arg)!;
        cases.push({
          label: key,
          operation: `${root === 'Query' ? 'query' : root === 'Mutation' ? 'mutation' : 'subscription'}($v: ${String(argDef.type)}) { ${field}(${arg}: $v) { __typename } }`,
          variables: { v: wrap(Array.from({ length: bound + 1 }, () => sample(inner.ofType))) },
        });
        return;
      }
      const named = getNamedType(inner);
      if (isInputObjectType(named) && !seen.has(named.name)) {
        for (const f of Object.values(named.getFields())) {
          visitType(root, field, arg, f.type, `${named.name}.${f.name}`, (v) => wrap({ [f.name]: v }), new Set([...seen, named.name]));
        }
      }
    };
    for (const root of ['Query', 'Mutation', 'Subscription']) {
      for (const [name, field] of Object.entries(rootType(root).getFields())) {
        for (const arg of field.args) visitType(root, name, arg.name, arg.type, `${root}.${name}.${arg.name}`, (v) => v, new Set());
      }
    }
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) {
      const error = checkListArguments(schema, parse(c.operation), c.variables, DEFAULT_QUERY_LIMITS.maxListItems);
      expect(error?.extensions.code, c.label).toBe('LIST_TOO_LONG');
    }
  });

  it('field suggestions are hidden', async ({ service }) => {
    const res = await post(service, { query: '{ department(id: 1) { nmae } }' }, withKey(admin));
    expect(firstError(res.body).message).toBe('Cannot query field "nmae" on type "Department". [Suggestion hidden]');
  });
});

describe('HTTP', () => {
  it('batching is off: an array of operations is refused', async ({ service }) => {
    const res = await post(service, [{ query: '{ __typename }' }, { query: '{ __typename }' }], withKey(admin));
    expect(res.status).toBe(400);
    expect(firstError(res.body).message).toBe('Batching is not supported.');
  });

  it('batching can be allowed up to a small limit', async ({ startService }) => {
    const batched = await startService({ security: { ...keysOnly([admin]), batching: 2 } });
    const two = await post(batched, [{ query: '{ __typename }' }, { query: '{ __typename }' }], withKey(admin));
    expect(two.body).toEqual([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
    const three = await post(
      batched,
      [{ query: '{ __typename }' }, { query: '{ __typename }' }, { query: '{ __typename }' }],
      withKey(admin),
    );
    expect(three.status).toBe(413);
    expect(JSON.stringify(three.body)).toMatch(/Batching is limited to 2 operations per request/);
  });

  it('CSRF: a form-encoded or text/plain POST, or a GET, without a preflight header is refused (403)', async ({ service }) => {
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain']) {
      const res = await post(service, { query: '{ __typename }' }, { ...withKey(admin), 'content-type': contentType });
      expect(res.status).toBe(403);
      expect(firstError(res.body).message).toBe('Required CSRF header(s) not present');
    }
    const get = await service.app.yoga.fetch('http://yoga/graphql?query=%7B__typename%7D', { headers: withKey(admin) });
    expect(get.status).toBe(403);
    const preflighted = await service.app.yoga.fetch('http://yoga/graphql?query=%7B__typename%7D', {
      headers: { ...withKey(admin), 'x-graphql-yoga-csrf': '1' },
    });
    expect(await preflighted.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('a JSON body larger than the limit is refused with 413 before it is read', async ({ startService }) => {
    const small = await startService({
      listen: true,
      security: { ...keysOnly([admin]), http: { maxBodyBytes: 2_000, maxFileBytes: 20 * 1024 * 1024, maxFiles: 1 } },
    });
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(3_000) } });
    const res = await fetch(`${small.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...withKey(admin) },
      body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      errors: [
        {
          message: `The request body has ${Buffer.byteLength(body)} bytes; at most 2000 are accepted`,
          extensions: { code: 'REQUEST_TOO_LARGE' },
        },
      ],
    });
  });

  it('a chunked body (no Content-Length) is refused with 411', async ({ service }) => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${service.url}/graphql`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...withKey(admin) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"query":');
      req.end('"{ __typename }"}');
    });
    expect(status).toBe(411);
  });

  it('slow clients: the listener drops one that does not finish its headers, or its request, in time (408)', async ({ startService }) => {
    const slow = await startService({
      listen: true,
      security: keysOnly([admin]),
      serverOptions: serverOptions({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 1_000, checkIntervalMs: 50 }),
    });
    const started = Date.now();
    const answer = await answerToUnfinished(slow.url, 'POST /graphql HTTP/1.1\r\nHost: x\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3_000);

    // Headers in time, but a body that never finishes: dropped at the request timeout.
    const bodyStarted = Date.now();
    const bodyAnswer = await answerToUnfinished(
      slow.url,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: ${admin.key}\r\nContent-Length: 100\r\n\r\n{"query":`,
    );
    expect(bodyAnswer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - bodyStarted).toBeGreaterThanOrEqual(500);
    expect(Date.now() - bodyStarted).toBeLessThan(3_000);
    expect((await slow.wecom.stats()).total).toBe(0);
  });
});

describe('introspection and GraphiQL', () => {
  it('introspection can be turned off; __typename still works', async ({ service, startService }) => {
    const closed = await startService({ security: { ...keysOnly([admin]), introspection: false } });
    const res = await post(closed, { query: '{ __schema { types { name } } }' }, withKey(admin));
    expect(firstError(res.body).message).toMatch(/GraphQL introspection has been disabled/);
    expect((await post(closed, { query: '{ __typename }' }, withKey(admin))).body).toEqual({ data: { __typename: 'Query' } });
    const open = await post(service, { query: '{ __schema { queryType { name } } }' }, withKey(admin));
    expect(open.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('GraphiQL is served only when turned on (its page needs no credential; its requests do)', async ({ service }) => {
    // The harness runs without GraphiQL, as production does by default: no page, and without a credential, 401.
    const off = await service.app.yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
    expect(off.status).toBe(401);
    expect(await off.text()).not.toContain('<html');
    const withKeyOff = await service.app.yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html', ...withKey(admin) } });
    expect(await withKeyOff.text()).not.toContain('<html');
    const app = createApp({
      client: service.client,
      changes: new ChangeBus(),
      logger: pino({ level: 'silent' }),
      graphiql: true,
      cache: false,
      security: keysOnly([admin]),
    });
    try {
      const on = await app.yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
      expect(on.status).toBe(200);
      expect(await on.text()).toContain('<title>WeCom directory</title>');
      const query = await app.yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      });
      expect(query.status).toBe(401);
    } finally {
      app.jobs.close();
    }
  });
});

describe('persisted operations only', () => {
  persistedIt('runs an operation of examples/ by its hash', async ({ persisted: { service: persisted, store } }) => {
    const [hash] = [...store].find(([, doc]) => doc.startsWith('query DepartmentDashboard'))!;
    // The operation by its hash is examples/'s DepartmentDashboard: its answer has that document's type.
    const dashboard = async (body: unknown) => (await post(persisted, body, withKey(admin))).body as TypedResult<DepartmentDashboardQuery>;
    const res = await dashboard({ documentId: hash, variables: { rootId: 2 } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.departments[0]).toMatchObject({ departmentId: 2 });
    // Apollo's persisted-query extension works too.
    const apq = await dashboard({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } }, variables: { rootId: 2 } });
    expect(apq.data!.departments[0]).toMatchObject({ departmentId: 2 });
  });

  persistedIt('refuses a query text, and an unknown hash, before parsing', async ({ persisted: { service: persisted } }) => {
    await persisted.wecom.resetStats();
    const text = await post(persisted, { query: '{ department(id: 1) { name } }' }, withKey(admin));
    expect(firstError(text.body)).toMatchObject({ extensions: { code: 'PERSISTED_QUERY_ONLY' } });
    expect(text.status).toBe(400);
    const unknown = await post(persisted, { documentId: 'f'.repeat(64) }, withKey(admin));
    expect(firstError(unknown.body)).toMatchObject({
      message: 'No persisted operation has this documentId',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    expect((await persisted.wecom.stats()).total).toBe(0);
  });

  persistedIt('the store holds exactly the operations of examples/', ({ persisted: { store } }) => {
    const names = [...store.values()].map((doc) => /^(?:query|mutation|subscription) (\w+)/.exec(doc)![1]).sort();
    const inExamples = readFileSync(new URL('../../examples/org-tree.graphql', import.meta.url), 'utf8');
    expect(inExamples).toContain('query OrgTree');
    expect(names).toEqual(
      expect.arrayContaining([
        'CreateUser',
        'DepartmentDashboard',
        'ImportProgress',
        'ImportUsers',
        'LinkedCorpBrowser',
        'OrgTree',
        'PeoplePicker',
        'UserCard',
      ]),
    );
  });
});

describe('rate limits', () => {
  limitedIt(
    'requests beyond the caller’s budget get 429 with Retry-After, before any upstream call; other callers are unaffected',
    async ({ service: limited }) => {
      for (let i = 0; i < 5; i++) expect((await post(limited, { query: '{ __typename }' }, withKey(admin))).status).toBe(200);
      await limited.wecom.resetStats();
      const res = await post(limited, { query: '{ department(id: 1) { name } }' }, withKey(admin));
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toEqual({
        errors: [{ message: 'Too many requests from this caller; retry in 1 s', extensions: { code: 'RATE_LIMITED' } }],
      });
      expect((await limited.wecom.stats()).total).toBe(0);
      expect((await post(limited, { query: '{ __typename }' }, withKey(other))).status).toBe(200);
    },
  );

  limitedIt('mutations have a budget of their own, counted per mutation field (aliases included)', async ({ service: limited }) => {
    const m = (n: number) =>
      `mutation { ${Array.from({ length: n }, (_, i) => `m${i}: deleteUser(userid: "nobody.${i}") { __typename }`).join(' ')} }`;
    const first = await post(limited, { query: m(3) }, withKey(other));
    expect(first.status).toBe(200);
    await limited.wecom.resetStats();
    const second = await post(limited, { query: m(1) }, withKey(other));
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(firstError(second.body)).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    expect((await limited.wecom.stats()).total).toBe(0);
  });

  ownServiceTest('a request with more mutation fields than the whole budget is refused outright (400)', async ({ startService }) => {
    const fresh = testKey('fresh', ALL);
    const svc = await startService({
      security: { ...keysOnly([fresh]), rateLimit: { requestsPerMinute: 60, requestBurst: 5, mutationsPerMinute: 6, mutationBurst: 3 } },
    });
    const res = await post(
      svc,
      { query: `mutation { ${Array.from({ length: 4 }, (_, i) => `m${i}: deleteUser(userid: "x${i}") { __typename }`).join(' ')} }` },
      withKey(fresh),
    );
    expect(res.status).toBe(400);
    expect(firstError(res.body)).toMatchObject({
      message: 'One request may run at most 3 mutation fields (this one has 4)',
      extensions: { code: 'TOO_MANY_MUTATIONS' },
    });
    expect((await svc.wecom.stats()).total).toBe(0);
  });
});
