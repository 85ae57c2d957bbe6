import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { keysOnly, post, testKey, withKey, writeCalls } from './helpers.ts';

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

let service: ServiceHarness;
// biome-ignore lint/suspicious/noExplicitAny: WeCom's user/get answer, read field by field.
let someone: Record<string, any>;

beforeAll(async () => {
  service = await ServiceHarness.start({ security: keysOnly([reader, piiReader, writerOnly, writer, admin, adminNoWrite]) });
  // A member with every personal field set (the seed's 谢刚 has them all).
  someone = (await service.wecom.console('user/get', { userid: 'xiegang' })).json;
  expect(
    someone.mobile && someone.email && someone.biz_mail && someone.telephone && someone.address && someone.avatar && someone.qr_code,
  ).toBeTruthy();
});
afterAll(() => service.close());
beforeEach(() => service.wecom.resetStats());

const forbidden = (field: string, needs: string) => ({
  message: `Forbidden: ${field} needs ${needs}`,
  extensions: expect.objectContaining({ code: 'FORBIDDEN' }),
});

describe('directory:read', () => {
  it('is needed by every query field: a key without it gets FORBIDDEN and nothing is read upstream', async () => {
    const res = await post(service, { query: '{ department(id: 1) { name } tags { name } }' }, withKey(writerOnly));
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toEqual([
      expect.objectContaining(forbidden('Query.department', 'scope directory:read')),
      expect.objectContaining(forbidden('Query.tags', 'scope directory:read')),
    ]);
    expect(res.body.errors[0].extensions.needs).toEqual(['directory:read']);
    expect((await service.calls())['/cgi-bin/department/list']).toBeUndefined();
  });

  it('is needed by subscriptions', async () => {
    const res = await service.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...withKey(writerOnly) },
      body: JSON.stringify({ query: 'subscription { contactChanged { kind } }' }),
    });
    const text = await res.text();
    expect(text).toContain('Forbidden: Subscription.contactChanged needs scope directory:read');
  });

  it('serves reads to a key that has it', async () => {
    const res = await post(service, { query: '{ user(userid: "xiegang") { userid name position } }' }, withKey(reader));
    expect(res.body).toEqual({ data: { user: { userid: 'xiegang', name: someone.name, position: someone.position } } });
  });
});

describe('directory:pii', () => {
  const PII_QUERY = `{ user(userid: "xiegang") { name mobile email bizMail telephone address avatar thumbAvatar qrCode } }`;

  it('without it, personal fields are null (no error) and the rest is served', async () => {
    const res = await post(service, { query: PII_QUERY }, withKey(reader));
    expect(res.body).toEqual({
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

  it('with it, personal fields are WeCom’s values', async () => {
    const res = await post(service, { query: PII_QUERY }, withKey(piiReader));
    expect(res.body).toEqual({
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

  it('is needed to look members up by mobile or email (no oracle for who has a number)', async () => {
    const query = `query($m: String!, $e: String!) { userByMobile(mobile: $m) { userid } userByEmail(email: $e) { userid } }`;
    // userByEmail looks up the enterprise mailbox by default (email_type 1).
    const variables = { m: someone.mobile, e: someone.biz_mail };
    const refused = await post(service, { query, variables }, withKey(reader));
    expect(refused.body.errors.map((e: { message: string }) => e.message).sort()).toEqual([
      'Forbidden: Query.userByEmail needs scope directory:pii',
      'Forbidden: Query.userByMobile needs scope directory:pii',
    ]);
    expect((await service.calls())['/cgi-bin/user/getuserid']).toBeUndefined();
    const served = await post(service, { query, variables }, withKey(piiReader));
    expect(served.body.data).toEqual({ userByMobile: { userid: 'xiegang' }, userByEmail: { userid: 'xiegang' } });
  });

  it('covers linked-corp members too', async () => {
    const query = `{ linkedCorps { members { userid mobile email telephone } } }`;
    const without = await post(service, { query }, withKey(reader));
    const members = without.body.data.linkedCorps.flatMap((c: { members: unknown[] }) => c.members);
    expect(members.length).toBeGreaterThan(0);
    for (const m of members) expect(m).toMatchObject({ mobile: null, email: null, telephone: null });
    const withPii = await post(service, { query }, withKey(piiReader));
    const shown = withPii.body.data.linkedCorps.flatMap((c: { members: { mobile: string | null }[] }) => c.members);
    expect(shown.some((m: { mobile: string | null }) => m.mobile)).toBe(true);
  });
});

describe('directory:write', () => {
  const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }`;
  const input = { userid: 'scope.test', name: '权限测试', departmentIds: [2], mobile: '13900001111' };

  it('is needed by mutations: a read-only key is FORBIDDEN and WeCom sees no write', async () => {
    const res = await post(service, { query: CREATE, variables: { input } }, withKey(reader));
    expect(res.body.errors).toEqual([expect.objectContaining(forbidden('Mutation.createUser', 'scope directory:write'))]);
    expect(await writeCalls(service)).toEqual({});
    expect((await service.wecom.console('user/get', { userid: 'scope.test' })).json.errcode).toBe(60111);
  });

  it('lets a key with it write', async () => {
    const res = await post(service, { query: CREATE, variables: { input } }, withKey(writer));
    expect(res.body).toEqual({ data: { createUser: { __typename: 'MutationCreateUserSuccess' } } });
    expect((await service.wecom.console('user/get', { userid: 'scope.test' })).json.name).toBe('权限测试');
  });
});

describe('directory:admin', () => {
  it.each([
    [
      'Mutation.importUsers',
      `mutation { importUsers(mode: SYNC, rows: [{ userid: "imp.one", name: "导入", departmentIds: [2], mobile: "13900002222" }]) { __typename } }`,
    ],
    ['Mutation.importDepartments', `mutation { importDepartments(rows: [{ departmentId: 1, name: "总部" }]) { __typename } }`],
    ['Mutation.startExport', `mutation { startExport(kind: DEPARTMENTS) { __typename } }`],
    ['Mutation.inviteUsers', `mutation { inviteUsers(userids: ["xiegang"]) { __typename } }`],
  ])('is needed by %s: a writer without it is FORBIDDEN and WeCom sees nothing', async (field, query) => {
    const res = await post(service, { query }, withKey(writer));
    expect(res.body.errors).toEqual([expect.objectContaining(forbidden(field, 'scope directory:admin'))]);
    expect(await service.calls()).toEqual({});
  });

  it.each([
    ['Query.joinQrCode', '{ joinQrCode }'],
    ['Query.importJob', '{ importJob(id: "job1") { id } }'],
    ['Query.exportJob', '{ exportJob(id: "job1") { id } }'],
  ])('is needed by %s', async (field, query) => {
    const res = await post(service, { query }, withKey(writer));
    expect(res.body.errors).toEqual([expect.objectContaining(forbidden(field, 'scope directory:admin'))]);
    expect(await service.calls()).toEqual({});
  });

  it('with write, runs an export, an invitation and the join QR code', async () => {
    const exported = await post(
      service,
      { query: `mutation { startExport(kind: DEPARTMENTS) { __typename ... on MutationStartExportSuccess { data { id kind } } } }` },
      withKey(admin),
    );
    expect(exported.body.data.startExport).toMatchObject({ __typename: 'MutationStartExportSuccess', data: { kind: 'DEPARTMENTS' } });
    const invited = await post(service, { query: `mutation { inviteUsers(userids: ["xiegang"]) { __typename } }` }, withKey(admin));
    expect(invited.body.data.inviteUsers.__typename).toBe('MutationInviteUsersSuccess');
    const qr = await post(service, { query: '{ joinQrCode }' }, withKey(admin));
    expect(qr.body.data.joinQrCode).toMatch(/^https?:\/\//);
  });

  it('does not replace write: an admin key without write may not run mutations', async () => {
    const res = await post(service, { query: `mutation { startExport(kind: DEPARTMENTS) { __typename } }` }, withKey(adminNoWrite));
    expect(res.body.errors).toEqual([expect.objectContaining(forbidden('Mutation.startExport', 'scope directory:write'))]);
    expect(await service.calls()).toEqual({});
  });
});
