import { describe, expect } from 'vitest';
import { serviceTest } from '../testkit/service.ts';
import { schema } from '../../src/schema/index.ts';

/**
 * Every mutation of the schema, sent twice with identical text and variables: each send must reach
 * WeCom (a write is never answered from the response cache). Guards the bug where a second identical
 * createUser said Success without calling WeCom and two inviteUsers sent one invitation.
 */

const it = serviceTest({ cache: {} }, { resetStats: false });

interface Case {
  mutation: string;
  document: string;
  variables: Record<string, unknown>;
  /** The WeCom write endpoint each send must call once. */
  endpoint: string;
}

const result = (field: string, args: string) => `mutation { ${field}(${args}) { __typename ... on Error { message } } }`;

/** In an order where each write finds what it needs (the tag, department and members the earlier ones made). */
const CASES: Case[] = [
  {
    mutation: 'createDepartment',
    document: result('createDepartment', 'input: { departmentId: 9001, name: "重复部门", parentId: 1 }'),
    variables: {},
    endpoint: 'department/create',
  },
  {
    mutation: 'updateDepartment',
    document: result('updateDepartment', 'input: { departmentId: 9001, name: "重复部门二" }'),
    variables: {},
    endpoint: 'department/update',
  },
  {
    mutation: 'createTag',
    document: result('createTag', 'input: { tagId: 901, tagName: "重复标签" }'),
    variables: {},
    endpoint: 'tag/create',
  },
  {
    mutation: 'updateTag',
    document: result('updateTag', 'input: { tagId: 901, tagName: "重复标签二" }'),
    variables: {},
    endpoint: 'tag/update',
  },
  {
    mutation: 'createUser',
    document: 'mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }',
    variables: { input: { userid: 'twice01', name: '两次', departmentIds: [9001], email: 'twice01@example.com' } },
    endpoint: 'user/create',
  },
  {
    mutation: 'updateUser',
    document: result('updateUser', 'input: { userid: "twice01", position: "测试" }'),
    variables: {},
    endpoint: 'user/update',
  },
  {
    mutation: 'addTagMembers',
    document: result('addTagMembers', 'tagId: 901, userids: ["twice01"]'),
    variables: {},
    endpoint: 'tag/addtagusers',
  },
  {
    mutation: 'removeTagMembers',
    document: result('removeTagMembers', 'tagId: 901, userids: ["twice01"]'),
    variables: {},
    endpoint: 'tag/deltagusers',
  },
  { mutation: 'inviteUsers', document: result('inviteUsers', 'userids: ["twice01"]'), variables: {}, endpoint: 'batch/invite' },
  { mutation: 'confirmJoin', document: result('confirmJoin', 'userid: "twice01"'), variables: {}, endpoint: 'user/authsucc' },
  {
    mutation: 'importUsers',
    document: result(
      'importUsers',
      'mode: SYNC, rows: [{ userid: "twice02", name: "导入", departmentIds: [9001], email: "twice02@example.com" }]',
    ),
    variables: {},
    endpoint: 'batch/syncuser',
  },
  { mutation: 'startExport', document: result('startExport', 'kind: USERS'), variables: {}, endpoint: 'export/simple_user' },
  { mutation: 'deleteUser', document: result('deleteUser', 'userid: "twice01"'), variables: {}, endpoint: 'user/delete' },
  { mutation: 'deleteUsers', document: result('deleteUsers', 'userids: ["twice02"]'), variables: {}, endpoint: 'user/batchdelete' },
  { mutation: 'deleteTag', document: result('deleteTag', 'tagId: 901'), variables: {}, endpoint: 'tag/delete' },
  {
    // Last: a replace import rewrites the whole tree (the members above are gone by now).
    mutation: 'importDepartments',
    document: result(
      'importDepartments',
      'rows: [{ departmentId: 1, name: "总部" }, { departmentId: 9001, name: "重复部门二", parentId: 1 }]',
    ),
    variables: {},
    endpoint: 'batch/replaceparty',
  },
  {
    mutation: 'deleteDepartment',
    document: result('deleteDepartment', 'departmentId: 9001'),
    variables: {},
    endpoint: 'department/delete',
  },
];

describe('repeated identical mutations', () => {
  it('covers every mutation of the schema', () => {
    const fields = Object.keys(schema.getMutationType()!.getFields()).sort();
    expect(CASES.map((c) => c.mutation).sort()).toEqual(fields);
  });

  it.for(CASES)('$mutation sent twice calls $endpoint twice', async ({ document, variables, endpoint }, { service }) => {
    // Read once first so the second send could only have been skipped by a cache, not by a cold start.
    await service.query('{ department(id: 1) { name } }');
    await service.wecom.resetStats();
    const answers = [];
    for (let send = 1; send <= 2; send++) {
      const answer = await service.query(document, variables);
      expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
      answers.push(answer);
      expect((await service.calls())[`/cgi-bin/${endpoint}`], `${endpoint} after send ${send}`).toBe(send);
    }
  });

  it('a second identical createUser reports that the member exists', async ({ service }) => {
    const create =
      'mutation { createUser(input: { userid: "twice03", name: "两次", departmentIds: [1], email: "twice03@example.com" }) { __typename } }';
    expect((await service.query(create)).data!.createUser.__typename).toBe('MutationCreateUserSuccess');
    expect((await service.query(create)).data!.createUser.__typename).toBe('AlreadyExistsError');
  });
});
