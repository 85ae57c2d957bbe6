import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';
import { firstError, keysOnly, testKey, withKey, writeCalls } from './helpers.ts';

/**
 * Authorization (Pothos scope-auth): queries and subscriptions need directory:read, mutations
 * directory:write, imports, exports, invitations and the join QR code directory:admin, and the
 * personal fields directory:pii (null without it). A refused field is FORBIDDEN naming what it
 * needs, and a refused mutation never reaches WeCom.
 */

const reader = testKey('reader', ['directory:read']);
const piiReader = testKey('pii-reader', ['directory:read', 'directory:pii']);
const writerOnly = testKey('writer-only', ['directory:write']);
const writer = testKey('writer', ['directory:read', 'directory:write']);
const admin = testKey('admin', ['directory:read', 'directory:write', 'directory:admin']);
const adminNoWrite = testKey('admin-no-write', ['directory:read', 'directory:admin']);

// Each test counts its own upstream calls (the emulator's counters are zeroed before it).
const it = serviceTest({ security: keysOnly([reader, piiReader, writerOnly, writer, admin, adminNoWrite]) }).extend(
  'someone',
  { scope: 'file' },
  // A member with every personal field set (the seed's 谢刚 has them all), as WeCom's user/get answers it.
  async ({ service }): Promise<Wire> => {
    const someone = (await service.wecom.console('user/get', { userid: 'xiegang' })).json;
    expect(
      someone.mobile && someone.email && someone.biz_mail && someone.telephone && someone.address && someone.avatar && someone.qr_code,
    ).toBeTruthy();
    return someone;
  },
);

/** Documents asked of a key that may not run them: only their errors are read. */
type Refused = TypedDocumentNode<unknown, Record<string, never>>;

const forbidden = (field: string, needs: string) => ({
  message: `Forbidden: ${field} needs ${needs}`,
  extensions: expect.objectContaining({ code: 'FORBIDDEN' }),
});

describe('directory:read', () => {
  it('is needed by every query field: a key without it gets FORBIDDEN and nothing is read upstream', async ({ service, execute }) => {
    const res = await execute(graphql(`query ScopeReadBoth { department(id: 1) { name } tags { name } }`), {}, withKey(writerOnly));
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining(forbidden('Query.department', 'scope directory:read')),
      expect.objectContaining(forbidden('Query.tags', 'scope directory:read')),
    ]);
    expect(firstError(res).extensions.needs).toEqual(['directory:read']);
    expect((await service.calls())['/cgi-bin/department/list']).toBeUndefined();
  });

  it('is needed by subscriptions', async ({ service }) => {
    const res = await service.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...withKey(writerOnly) },
      body: JSON.stringify({ query: 'subscription { contactChanged { kind } }' }),
    });
    const text = await res.text();
    expect(text).toContain('Forbidden: Subscription.contactChanged needs scope directory:read');
  });

  it('serves reads to a key that has it', async ({ execute, someone }) => {
    const res = await execute(graphql(`query ScopeReader { user(userid: "xiegang") { userid name position } }`), {}, withKey(reader));
    expect(res).toEqual({ data: { user: { userid: 'xiegang', name: someone.name, position: someone.position } } });
  });
});

describe('directory:pii', () => {
  const PII_QUERY = graphql(
    `query ScopePersonal { user(userid: "xiegang") { name mobile email bizMail telephone address avatar thumbAvatar qrCode } }`,
  );

  it('without it, personal fields are null (no error) and the rest is served', async ({ execute, someone }) => {
    const res = await execute(PII_QUERY, {}, withKey(reader));
    expect(res).toEqual({
      data: {
        user: {
          name: someone.name,
          mobile: null,
          email: null,
          bizMail: null,
          telephone: null,
          address: null,
          avatar: null,
          thumbAvatar: null,
          qrCode: null,
        },
      },
    });
  });

  it('with it, personal fields are WeCom’s values', async ({ execute, someone }) => {
    const res = await execute(PII_QUERY, {}, withKey(piiReader));
    expect(res).toEqual({
      data: {
        user: {
          name: someone.name,
          mobile: someone.mobile,
          email: someone.email,
          bizMail: someone.biz_mail,
          telephone: someone.telephone,
          address: someone.address,
          avatar: someone.avatar,
          thumbAvatar: someone.thumb_avatar,
          qrCode: someone.qr_code,
        },
      },
    });
  });

  it('is needed to look members up by mobile or email (no oracle for who has a number)', async ({ service, execute, someone }) => {
    const query = graphql(
      `query ScopeLookups($m: String!, $e: String!) { userByMobile(mobile: $m) { userid } userByEmail(email: $e) { userid } }`,
    );
    // userByEmail looks up the enterprise mailbox by default (email_type 1).
    const variables = { m: someone.mobile, e: someone.biz_mail };
    const refused = await execute(query, variables, withKey(reader));
    expect(refused.errors!.map((e) => e.message).sort()).toEqual([
      'Forbidden: Query.userByEmail needs scope directory:pii',
      'Forbidden: Query.userByMobile needs scope directory:pii',
    ]);
    expect((await service.calls())['/cgi-bin/user/getuserid']).toBeUndefined();
    const served = await execute(query, variables, withKey(piiReader));
    expect(served.data).toEqual({ userByMobile: { userid: 'xiegang' }, userByEmail: { userid: 'xiegang' } });
  });

  it('covers linked-corp members too', async ({ execute }) => {
    const query = graphql(`query ScopeLinkedMembers { linkedCorps { members { userid mobile email telephone } } }`);
    const without = await execute(query, {}, withKey(reader));
    const members = without.data!.linkedCorps.flatMap((c) => c.members);
    expect(members.length).toBeGreaterThan(0);
    for (const m of members) expect(m).toMatchObject({ mobile: null, email: null, telephone: null });
    const withPii = await execute(query, {}, withKey(piiReader));
    const shown = withPii.data!.linkedCorps.flatMap((c) => c.members);
    expect(shown.some((m) => m.mobile)).toBe(true);
  });
});

describe('directory:write', () => {
  const CREATE = graphql(`mutation ScopeCreateUser($input: CreateUserInput!) { createUser(input: $input) { __typename } }`);
  const input = { userid: 'scope.test', name: '权限测试', departmentIds: [2], mobile: '13900001111' };

  it('is needed by mutations: a read-only key is FORBIDDEN and WeCom sees no write', async ({ service, execute }) => {
    const res = await execute(CREATE, { input }, withKey(reader));
    expect(res.errors).toEqual([expect.objectContaining(forbidden('Mutation.createUser', 'scope directory:write'))]);
    expect(await writeCalls(service)).toEqual({});
    expect((await service.wecom.console('user/get', { userid: 'scope.test' })).json.errcode).toBe(60111);
  });

  it('lets a key with it write', async ({ service, execute }) => {
    const res = await execute(CREATE, { input }, withKey(writer));
    expect(res).toEqual({ data: { createUser: { __typename: 'MutationCreateUserSuccess' } } });
    expect((await service.wecom.console('user/get', { userid: 'scope.test' })).json.name).toBe('权限测试');
  });
});

describe('directory:admin', () => {
  it.for([
    [
      'Mutation.importUsers',
      graphql(
        `mutation ScopeImportUsers { importUsers(mode: SYNC, rows: [{ userid: "imp.one", name: "导入", departmentIds: [2], mobile: "13900002222" }]) { __typename } }`,
      ),
    ],
    [
      'Mutation.importDepartments',
      graphql(`mutation ScopeImportDepartments { importDepartments(rows: [{ departmentId: 1, name: "总部" }]) { __typename } }`),
    ],
    ['Mutation.startExport', graphql(`mutation ScopeStartExport { startExport(kind: DEPARTMENTS) { __typename } }`)],
    ['Mutation.inviteUsers', graphql(`mutation ScopeInvite { inviteUsers(userids: ["xiegang"]) { __typename } }`)],
  ] as [string, Refused][])(
    'is needed by %s: a writer without it is FORBIDDEN and WeCom sees nothing',
    async ([field, query], { service, execute }) => {
      const res = await execute(query, {}, withKey(writer));
      expect(res.errors).toEqual([expect.objectContaining(forbidden(field, 'scope directory:admin'))]);
      expect(await service.calls()).toEqual({});
    },
  );

  it.for([
    ['Query.joinQrCode', graphql(`query ScopeJoinQrCode { joinQrCode }`)],
    ['Query.importJob', graphql(`query ScopeImportJob { importJob(id: "job1") { id } }`)],
    ['Query.exportJob', graphql(`query ScopeExportJob { exportJob(id: "job1") { id } }`)],
  ] as [string, Refused][])('is needed by %s', async ([field, query], { service, execute }) => {
    const res = await execute(query, {}, withKey(writer));
    expect(res.errors).toEqual([expect.objectContaining(forbidden(field, 'scope directory:admin'))]);
    expect(await service.calls()).toEqual({});
  });

  it('with write, runs an export, an invitation and the join QR code', async ({ execute }) => {
    const exported = await execute(
      graphql(
        `mutation ScopeAdminExport { startExport(kind: DEPARTMENTS) { __typename ... on MutationStartExportSuccess { data { id kind } } } }`,
      ),
      {},
      withKey(admin),
    );
    expect(exported.data!.startExport).toMatchObject({ __typename: 'MutationStartExportSuccess', data: { kind: 'DEPARTMENTS' } });
    const invited = await execute(
      graphql(`mutation ScopeAdminInvite { inviteUsers(userids: ["xiegang"]) { __typename } }`),
      {},
      withKey(admin),
    );
    expect(invited.data!.inviteUsers.__typename).toBe('MutationInviteUsersSuccess');
    const qr = await execute(graphql(`query ScopeAdminQrCode { joinQrCode }`), {}, withKey(admin));
    expect(qr.data!.joinQrCode).toMatch(/^https?:\/\//);
  });

  it('does not replace write: an admin key without write may not run mutations', async ({ service, execute }) => {
    const res = await execute(
      graphql(`mutation ScopeNoWriteExport { startExport(kind: DEPARTMENTS) { __typename } }`),
      {},
      withKey(adminNoWrite),
    );
    expect(res.errors).toEqual([expect.objectContaining(forbidden('Mutation.startExport', 'scope directory:write'))]);
    expect(await service.calls()).toEqual({});
  });
});
