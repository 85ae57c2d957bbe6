import { print } from 'graphql';
import { describe, expect } from 'vitest';
import { pino } from 'pino';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { ownServiceTest, type ServiceOptions, type StartService } from '../testkit/service.ts';
import { createWeComClient } from '../../src/wecom/client.ts';
import { createApp } from '../../src/server.ts';
import { ChangeBus } from '../../src/directory/changes.ts';
import { failure } from '../helpers/mutations.ts';
import { executor, type Execute } from '../testkit/execute.ts';
import type { DirectoryChange } from '../../src/directory/changes.ts';

/**
 * WeCom failing under a mutation: answers lost after WeCom applied the write (the
 * `dropResponseAfterApply` fault: applied, never answered), frequency limits, "system busy", and
 * a service configured without the secret writes need. Each scenario gets its own service, since
 * the client remembers rate-limit windows and per-endpoint state.
 */

const it = ownServiceTest;

async function start(
  startService: StartService,
  options: ServiceOptions = {},
): Promise<{ service: ServiceHarness; execute: Execute; published: DirectoryChange[] }> {
  const service = await startService(options);
  const published: DirectoryChange[] = [];
  service.changes.subscribe((c) => published.push(c));
  // Tokens are fetched before the faults, so only the endpoints under test misbehave.
  await service.client.tags.list();
  await service.client.users.listIds({ limit: 1 });
  await service.wecom.resetStats();
  return { service, execute: executor(service), published };
}

const CREATE = graphql(`mutation LostAnswerCreateUser($input: CreateUserInput!) {
  createUser(input: $input) { __typename ...ErrorFields ... on MutationCreateUserSuccess { data { userid name departments { departmentId } } } }
}`);

describe('a write whose answer is lost after WeCom applied it', () => {
  it('reports createUser as applied, exactly once: one user in WeCom, one user/create call', async ({ startService }) => {
    // Short header timeout: the dropped answer is noticed quickly, then the client reads back.
    const { service, execute, published } = await start(startService, { client: { headersTimeoutMs: 300 } });
    await service.wecom.faults({ dropResponseAfterApply: { '/cgi-bin/user/create': 1 } });
    const input = { userid: 'lost.answer', name: '超时成员', departmentIds: [2], email: 'lost.answer@example.com' };

    const res = await execute(CREATE, { input });
    expect(res.errors).toBeUndefined();
    expect(res.data!.createUser).toEqual({
      __typename: 'MutationCreateUserSuccess',
      data: { userid: 'lost.answer', name: '超时成员', departments: [{ departmentId: 2 }] },
    });
    const stats = await service.wecom.stats();
    expect(stats.calls['/cgi-bin/user/create']).toBe(1);
    expect(stats.hangs).toBe(1);
    const all = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as { userid: string }[];
    expect(all.filter((u) => u.userid === 'lost.answer')).toHaveLength(1);
    expect(published).toEqual([{ kind: 'USER_CREATED', userid: 'lost.answer', departmentIds: [2], source: 'mutation' }]);

    // A client retrying anyway meets the member it already has, not a duplicate.
    await service.wecom.clearFaults();
    const retry = await execute(CREATE, { input });
    expect(retry.data!.createUser).toMatchObject({ __typename: 'AlreadyExistsError', errcode: 60102 });
  });

  it('reports deleteUser as applied when reading back shows the member gone', async ({ startService }) => {
    const { service, execute } = await start(startService, { client: { headersTimeoutMs: 300 } });
    const [victim] = (await service.wecom.console('user/list', { department_id: 3 })).json.userlist as { userid: string }[];
    await service.wecom.faults({ dropResponseAfterApply: { '/cgi-bin/user/delete': 1 } });
    const res = await execute(
      graphql(
        `mutation LostAnswerDeleteUser($u: String!) { deleteUser(userid: $u) { __typename ...ErrorFields ... on MutationDeleteUserSuccess { data { userids } } } }`,
      ),
      { u: victim!.userid },
    );
    expect(res.data!.deleteUser).toEqual({ __typename: 'MutationDeleteUserSuccess', data: { userids: [victim!.userid] } });
    expect((await service.wecom.console('user/get', { userid: victim!.userid })).json.errcode).toBe(60111);
    expect((await service.wecom.stats()).calls['/cgi-bin/user/delete']).toBe(1);
  });

  it('gives OutcomeUnknownError for a write WeCom cannot read back (batch/invite), without resending it', async ({ startService }) => {
    const { service, execute, published } = await start(startService, { client: { headersTimeoutMs: 300 } });
    const [user] = (await service.wecom.console('user/list', { department_id: 2 })).json.userlist as { userid: string }[];
    await service.wecom.faults({ dropResponseAfterApply: { '/cgi-bin/batch/invite': 1 } });
    const res = await execute(
      graphql(`mutation LostAnswerInvite($u: [String!]) { inviteUsers(userids: $u) { __typename ...ErrorFields } }`),
      { u: [user!.userid] },
    );
    expect(res.data!.inviteUsers).toMatchObject({ __typename: 'OutcomeUnknownError', readBack: 'UNVERIFIABLE' });
    expect(failure(res.data!.inviteUsers).message).toMatch(/It was not resent/);
    expect((await service.wecom.stats()).calls['/cgi-bin/batch/invite']).toBe(1);
    // WeCom did apply it, once.
    expect((await service.wecom.admin('invitations')).json.invitations).toEqual([expect.objectContaining({ user: [user!.userid] })]);
    expect(published).toEqual([]);
  });
});

describe('limits and refusals outside the input', () => {
  it('gives RateLimitedError when WeCom answers 45009 for longer than the call may wait, creating nothing', async ({ startService }) => {
    const { service, execute, published } = await start(startService);
    await service.wecom.faults({ rateLimitPerMinute: { '/cgi-bin/user/create': 0 } });
    const res = await execute(CREATE, { input: { userid: 'limited', name: 'L', departmentIds: [2], email: 'limited@example.com' } });
    expect(res.data!.createUser).toMatchObject({ __typename: 'RateLimitedError', errcode: 45009, retryAfterSeconds: 60 });
    expect(failure(res.data!.createUser).message).not.toMatch(/from ip|hint:/);
    expect((await service.wecom.console('user/get', { userid: 'limited' })).json.errcode).toBe(60111);
    expect(published).toEqual([]);
  });

  it('gives WeComError with the errcode for other refusals (-1 "system busy" on an export submission)', async ({ startService }) => {
    const { service, execute } = await start(startService);
    await service.wecom.faults({ errorRate: { '-1': 1 } });
    const res = await execute(graphql(`mutation BusyExport { startExport(kind: DEPARTMENTS) { __typename ...ErrorFields } }`));
    expect(res.data!.startExport).toMatchObject({ __typename: 'WeComError', errcode: -1 });
    // An export submission is repeatable (it changes nothing), so the client tried three times.
    expect((await service.wecom.stats()).calls['/cgi-bin/export/department']).toBe(3);
  });

  it('refuses writes locally when only an app secret is configured (WeCom would answer 48002)', async ({ startService }) => {
    const wecomOnlyApp = await startService();
    const creds = wecomOnlyApp.wecom.creds;
    const appOnly = createWeComClient({ baseUrl: wecomOnlyApp.wecom.url, corpId: creds.corpId, secrets: { app: creds.app } });
    const app = createApp({ client: appOnly, changes: new ChangeBus(), logger: pino({ level: 'silent' }), graphiql: false });
    try {
      await wecomOnlyApp.wecom.resetStats();
      const res = await app.yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: print(CREATE),
          variables: { input: { userid: 'app.only', name: 'A', departmentIds: [2], email: 'app.only@example.com' } },
        }),
      });
      const body = (await res.json()) as { data: unknown; errors: { message: string; extensions: { code: string } }[] };
      expect(body.data).toBeNull();
      expect(body.errors[0]!.extensions.code).toBe('WECOM_MISCONFIGURED');
      expect(body.errors[0]!.message).toMatch(/contacts-sync secret/);
      expect((await wecomOnlyApp.wecom.stats()).total).toBe(0);
    } finally {
      app.jobs.close();
      await appOnly.close();
    }
  });
});
