import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import type { TypedResult } from '../testkit/execute.ts';
import { serviceTest } from '../testkit/service.ts';
import { ALL, keysOnly, testKey, withKey, type TestKey } from '../security/helpers.ts';

/**
 * Issue 18: `_entities` and `_service`, asked directly as a gateway would. Entities resolve through
 * the loaders of the root fields that read the same things, so they follow the same rules:
 * null for what does not exist or the caller may not see, FORBIDDEN without directory:read,
 * BAD_USER_INPUT (before any upstream call) for what cannot be a representation.
 */

const RD = 2;
const SALES = 23;
const full = testKey('entities-full', ALL);
const rdReader = testKey('entities-rd', ['directory:read'], [RD]);
const writer = testKey('entities-writer', ['directory:write']);

const ENTITIES = /* GraphQL */ `
  query ($reps: [_Any!]!) {
    _entities(representations: $reps) {
      __typename
      ... on User { userid name }
      ... on Department { departmentId name }
      ... on Tag { tagId name }
      ... on LinkedCorp { linkedId }
      ... on LinkedUser { linkedUserid: userid name }
      ... on LinkedDepartment { linkedDepartmentId: departmentId name }
    }
  }
`;

/** An entity as ENTITIES selects it (the fields of its type only). */
interface Entity {
  __typename: string;
  userid?: string;
  name?: string;
  departmentId?: number;
  tagId?: number;
  linkedId?: string;
  linkedUserid?: string;
  linkedDepartmentId?: number;
}

/**
 * `_service` and `_entities` belong to the subgraph schema (schema.subgraph.graphql), which the
 * tests' codegen (schema.graphql) does not type: they are sent as text, and read as these shapes.
 */
const subgraph = async (service: ServiceHarness, key: TestKey, query: string, variables?: Record<string, unknown>) =>
  (await service.query(query, variables, withKey(key))) as TypedResult<{ _service: { sdl: string }; _entities: (Entity | null)[] }>;

const LINKED = graphql(`query EntitiesLinkedCorps { linkedCorps { linkedId departments { departmentId name } members { userid name } } }`);
const LINKED_IDS = graphql(`query EntitiesLinkedIds { linkedCorps { linkedId } }`);
const USERS = graphql(`query EntitiesUsers($ids: [String!]!) { users(userids: $ids) { userid name } }`);
const TAG = graphql(`query EntitiesTag($id: Int!) { tag(id: $id) { tagId name } }`);

// Each test counts its own upstream calls (the emulator's counters are zeroed before it).
const it = serviceTest({ security: keysOnly([full, rdReader, writer]) });

describe('_service', () => {
  it('gives the committed subgraph SDL to a reader, FORBIDDEN without directory:read', async ({ service }) => {
    const res = await subgraph(service, full, '{ _service { sdl } }');
    expect(res.data!._service.sdl).toBe(readFileSync(new URL('../../schema.subgraph.graphql', import.meta.url), 'utf8'));
    const refused = await subgraph(service, writer, '{ _service { sdl } }');
    expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(refused.errors![0]!.message).toBe('Forbidden: Query._service needs scope directory:read');
  });
});

describe('_entities', () => {
  it('resolves every entity type by its key, in order, null for what does not exist', async ({ service, execute }) => {
    const [users, departments, tags] = await Promise.all([
      service.wecom
        .console('user/list', { department_id: 1, fetch_child: 1 })
        .then((r) => r.json.userlist as { userid: string; name: string }[]),
      service.wecom.console('department/list').then((r) => r.json.department as { id: number; name: string }[]),
      service.wecom.console('tag/list').then((r) => r.json.taglist as { tagid: number; tagname: string }[]),
    ]);
    const linked = await execute(LINKED, {}, withKey(full));
    const corp = linked.data!.linkedCorps[0]!;
    expect(corp).toBeDefined();
    const [u, d, t, lu, ld] = [users[3]!, departments[4]!, tags[1]!, corp.members[0]!, corp.departments[0]!];

    await service.wecom.resetStats();
    const reps = [
      { __typename: 'User', userid: u.userid.toUpperCase() },
      { __typename: 'Department', departmentId: d.id },
      { __typename: 'Tag', tagId: t.tagid },
      { __typename: 'LinkedCorp', linkedId: corp.linkedId },
      { __typename: 'LinkedUser', userid: lu.userid },
      { __typename: 'LinkedDepartment', departmentId: ld.departmentId },
      { __typename: 'User', userid: 'no.such.member' },
      { __typename: 'Department', departmentId: 999999 },
      { __typename: 'Tag', tagId: 999999 },
    ];
    const res = await subgraph(service, full, ENTITIES, { reps });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { __typename: 'User', userid: u.userid, name: u.name },
      { __typename: 'Department', departmentId: d.id, name: d.name },
      { __typename: 'Tag', tagId: t.tagid, name: t.tagname },
      { __typename: 'LinkedCorp', linkedId: corp.linkedId },
      { __typename: 'LinkedUser', linkedUserid: lu.userid, name: lu.name },
      { __typename: 'LinkedDepartment', linkedDepartmentId: ld.departmentId, name: ld.name },
      null,
      null,
      null,
    ]);
  });

  it('costs what users(userids:) costs for the same members: one user/get each, duplicates once', async ({ service, execute }) => {
    const users = (await service.wecom.console('user/list', { department_id: SALES, fetch_child: 1 })).json.userlist as {
      userid: string;
    }[];
    const ids = users.slice(0, 5).map((u) => u.userid);
    await service.wecom.resetStats();
    await subgraph(service, full, ENTITIES, { reps: [...ids, ids[0]!.toUpperCase()].map((userid) => ({ __typename: 'User', userid })) });
    const federated = await service.calls();
    await service.wecom.resetStats();
    await execute(USERS, { ids }, withKey(full));
    const direct = await service.calls();
    expect(federated['/cgi-bin/user/get']).toBe(5);
    expect(direct['/cgi-bin/user/get']).toBe(5);
  });

  it('gives null for what a key limited to a subtree may not see, as the root fields do', async ({ service, execute }) => {
    const membersOf = async (id: number) =>
      ((await service.wecom.console('user/list', { department_id: id, fetch_child: 1 })).json.userlist as { userid: string }[]).map(
        (x) => x.userid,
      );
    const rdMembers = new Set(await membersOf(RD));
    const inside = [...rdMembers][0]!;
    const outside = (await membersOf(SALES)).find((id) => !rdMembers.has(id))!;
    const linkedId = (await execute(LINKED_IDS, {}, withKey(full))).data!.linkedCorps[0]!.linkedId;
    const tags = (await service.wecom.console('tag/list')).json.taglist as { tagid: number }[];
    const reps = [
      { __typename: 'User', userid: inside },
      { __typename: 'User', userid: outside },
      { __typename: 'Department', departmentId: RD },
      { __typename: 'Department', departmentId: SALES },
      { __typename: 'LinkedCorp', linkedId },
      ...tags.map((t) => ({ __typename: 'Tag', tagId: t.tagid })),
    ];
    const res = await subgraph(service, rdReader, ENTITIES, { reps });
    expect(res.errors).toBeUndefined();
    const got = res.data!._entities;
    expect(got.slice(0, 5).map((e) => e?.__typename ?? null)).toEqual(['User', null, 'Department', null, null]);
    // Tags: exactly those `tag(id:)` shows this key.
    const direct = await Promise.all(tags.map(async (t) => (await execute(TAG, { id: t.tagid }, withKey(rdReader))).data!.tag));
    expect(got.slice(5).map((e) => (e ? { tagId: e.tagId, name: e.name } : null))).toEqual(direct);
  });

  it('is FORBIDDEN without directory:read, before any upstream call', async ({ service }) => {
    const res = await subgraph(service, writer, ENTITIES, { reps: [{ __typename: 'User', userid: 'zhangsan' }] });
    expect(res.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(res.errors![0]!.message).toBe('Forbidden: Query._entities needs scope directory:read');
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it.for([
    [
      [
        { __typename: 'User', userid: 'zhangsan' },
        { __typename: 'Ticket', id: '1' },
      ],
      'representations[1].__typename: must be one of User, Department, Tag, LinkedCorp, LinkedUser, LinkedDepartment (got "Ticket")',
    ],
    [
      [{ __typename: 'User', userid: 'a&access_token=x' }],
      'representations[0].userid: not a WeCom userid (1–64 bytes of letters, digits, _ - @ . starting with a letter or digit)',
    ],
    [
      [{ __typename: 'User' }],
      'representations[0].userid: not a WeCom userid (1–64 bytes of letters, digits, _ - @ . starting with a letter or digit)',
    ],
    [[{ __typename: 'Department', departmentId: '3' }], 'representations[0].departmentId: not a WeCom id (a positive integer)'],
    [[{ __typename: 'LinkedUser', userid: 'no-slash' }], 'representations[0].userid: not of the form "PREFIX/ID"'],
    [['User:zhangsan'], 'representations[0]: must be an object with __typename and the key fields'],
  ] as const)(
    'refuses a malformed representation with BAD_USER_INPUT naming it, before any upstream call (%#)',
    async ([reps, message], { service }) => {
      const res = await subgraph(service, full, ENTITIES, { reps });
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.message).toBe(message);
      expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(res.data).toBeNull();
      expect((await service.wecom.stats()).total).toBe(0);
    },
  );

  it('bounds how many representations one request may send (MAX_LIST_ITEMS)', async ({ service }) => {
    const reps = Array.from({ length: 1001 }, (_, i) => ({ __typename: 'User', userid: `u${i}` }));
    const res = await subgraph(service, full, ENTITIES, { reps });
    expect(res.errors![0]!.extensions!.code).toBe('LIST_TOO_LONG');
    expect((await service.wecom.stats()).total).toBe(0);
  });
});
