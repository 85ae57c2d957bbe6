import { describe, expect, vi } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { CallbackSender, send } from '../helpers/callback-sender.ts';
import { graphql } from '../generated/index.ts';
import { callbackTest, deliverCallbacks } from '../testkit/callback.ts';
import { executor } from '../testkit/execute.ts';
import { ownServiceTest } from '../testkit/service.ts';
import type { DirectoryChange } from '../../src/directory/changes.ts';

/**
 * Every ChangeType of docs/wecom-api.md §9.6, full and reduced (post-2022-08-15) field sets, as the
 * emulator delivers them for changes made in its console, mapped to the changes the service
 * publishes; then the events the emulator does not produce (NewUserID, unknown types,
 * batch_job_result) through signed requests built with the official package.
 */

const IMPORT_USERS = graphql(`
  mutation EventsImportUsers($rows: [ImportUserRow!]) {
    importUsers(mode: SYNC, rows: $rows) { ... on MutationImportUsersSuccess { data { id } } }
  }
`);
const IMPORT_JOB = graphql(`
  query EventsImportJob($id: ID!) {
    importJob(id: $id) { status }
  }
`);

/**
 * The file's service and `consoleChange(path, body, expected = 1)`: makes a change in the
 * emulator's console and returns what the service published for it (`published`, emptied first).
 */
const it = callbackTest({ cache: {} }, { resetStats: false }).extend(
  'consoleChange',
  ({ service, published }) =>
    async (path: string, body: Record<string, unknown>, expected = 1): Promise<DirectoryChange[]> => {
      published.length = 0;
      const res = await service.wecom.console(path, body);
      expect(res.json.errcode, res.text).toBe(0);
      await vi.waitFor(
        () => {
          if (published.length < expected) throw new Error(`only ${published.length} of ${expected} changes published`);
        },
        { timeout: 5_000, interval: 5 },
      );
      return [...published];
    },
);

/** Lets the emulator finish its deliveries, then shows what arrived (for "nothing is sent"). */
async function settle(service: ServiceHarness): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { deliveries } = (await service.wecom.admin('callback')).json as { deliveries: { status: string }[] };
    if (deliveries.every((d) => d.status === 'delivered' || d.status === 'failed')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await service.app.callback!.idle();
}

const firstDepartmentWithMembers = async (service: ServiceHarness): Promise<number> => {
  const tree: { id: number; parentid: number }[] = (await service.wecom.console('department/list')).json.department;
  for (const d of tree.filter((x) => x.parentid !== 0)) {
    if ((await service.wecom.console('user/list', { department_id: d.id })).json.userlist.length) return d.id;
  }
  throw new Error('no department with members');
};

describe('full field set', () => {
  it.beforeEach(async ({ service }) => {
    await service.wecom.reset();
    await deliverCallbacks(service, 'full');
  });

  it('create_user, update_user (fields and move), delete_user', async ({ service, consoleChange }) => {
    const dept = await firstDepartmentWithMembers(service);
    expect(await consoleChange('user/create', { userid: 'evt_user', name: '事件', department: [dept], mobile: '13800001234' })).toEqual([
      { kind: 'USER_CREATED', userid: 'evt_user', departmentIds: [dept], source: 'callback' },
    ]);
    expect(await consoleChange('user/update', { userid: 'evt_user', name: '事件二', position: '工程师' })).toEqual([
      { kind: 'USER_UPDATED', userid: 'evt_user', changedFields: ['name', 'position'], source: 'callback' },
    ]);
    const [moved] = await consoleChange('user/update', { userid: 'evt_user', department: [1], main_department: 1 });
    expect(moved).toMatchObject({ kind: 'USER_UPDATED', userid: 'evt_user', departmentIds: [1], source: 'callback' });
    expect((moved as { changedFields: string[] }).changedFields).toEqual(expect.arrayContaining(['department', 'mainDepartment']));
    expect(await consoleChange('user/delete', { userid: 'evt_user' })).toEqual([
      { kind: 'USER_DELETED', userid: 'evt_user', source: 'callback' },
    ]);
  });

  it('create_party, update_party (rename, move), delete_party', async ({ consoleChange }) => {
    const [created] = await consoleChange('department/create', { name: '事件部', parentid: 1 });
    const id = (created as { departmentId: number }).departmentId;
    expect(created).toEqual({ kind: 'DEPARTMENT_CREATED', departmentId: id, parentId: 1, source: 'callback' });
    expect(await consoleChange('department/update', { id, name: '事件部二' })).toEqual([
      { kind: 'DEPARTMENT_UPDATED', departmentId: id, changedFields: ['name'], source: 'callback' },
    ]);
    expect(await consoleChange('department/update', { id, parentid: 2 })).toEqual([
      { kind: 'DEPARTMENT_UPDATED', departmentId: id, parentId: 2, changedFields: ['parentid'], source: 'callback' },
    ]);
    expect(await consoleChange('department/delete', { id })).toEqual([
      { kind: 'DEPARTMENT_DELETED', departmentId: id, source: 'callback' },
    ]);
  });

  it('update_tag with added and removed members and departments', async ({ service, consoleChange }) => {
    const tagid = (await service.wecom.console('tag/create', { tagname: '事件标签' })).json.tagid as number;
    const users: { userid: string }[] = (
      await service.wecom.console('user/list', { department_id: await firstDepartmentWithMembers(service) })
    ).json.userlist;
    const [a, b] = users;
    expect(await consoleChange('tag/addtagusers', { tagid, userlist: [a!.userid, b!.userid], partylist: [2] })).toEqual([
      { kind: 'TAG_MEMBERS_CHANGED', tagId: tagid, addedUserids: [a!.userid, b!.userid], addedDepartmentIds: [2], source: 'callback' },
    ]);
    expect(await consoleChange('tag/deltagusers', { tagid, userlist: [a!.userid] })).toEqual([
      { kind: 'TAG_MEMBERS_CHANGED', tagId: tagid, removedUserids: [a!.userid], source: 'callback' },
    ]);
  });
});

describe('reduced field set (callback URLs set after 2022-08-15)', () => {
  it.beforeEach(async ({ service }) => {
    await service.wecom.reset();
    await deliverCallbacks(service, 'reduced');
  });

  it('member events: UserID and Department only, so the changed fields are unknown', async ({ service, consoleChange }) => {
    const dept = await firstDepartmentWithMembers(service);
    expect(await consoleChange('user/create', { userid: 'evt_reduced', name: '简', department: [dept], mobile: '13800004321' })).toEqual([
      { kind: 'USER_CREATED', userid: 'evt_reduced', departmentIds: [dept], source: 'callback' },
    ]);
    // a rename: the event says only who
    expect(await consoleChange('user/update', { userid: 'evt_reduced', name: '简二' })).toEqual([
      { kind: 'USER_UPDATED', userid: 'evt_reduced', source: 'callback' },
    ]);
    expect(await consoleChange('user/update', { userid: 'evt_reduced', department: [1], main_department: 1 })).toEqual([
      { kind: 'USER_UPDATED', userid: 'evt_reduced', departmentIds: [1], source: 'callback' },
    ]);
    expect(await consoleChange('user/delete', { userid: 'evt_reduced' })).toEqual([
      { kind: 'USER_DELETED', userid: 'evt_reduced', source: 'callback' },
    ]);
  });

  it('department events: Id and ParentId only; update_party only on a move', async ({ service, published, consoleChange }) => {
    const [created] = await consoleChange('department/create', { name: '简部', parentid: 1 });
    const id = (created as { departmentId: number }).departmentId;
    expect(created).toEqual({ kind: 'DEPARTMENT_CREATED', departmentId: id, parentId: 1, source: 'callback' });
    // a rename is not delivered at all
    published.length = 0;
    expect((await service.wecom.console('department/update', { id, name: '简部二' })).json.errcode).toBe(0);
    await settle(service);
    expect(published).toEqual([]);
    expect(await consoleChange('department/update', { id, parentid: 2 })).toEqual([
      { kind: 'DEPARTMENT_UPDATED', departmentId: id, parentId: 2, changedFields: ['parentid'], source: 'callback' },
    ]);
    expect(await consoleChange('department/delete', { id })).toEqual([
      { kind: 'DEPARTMENT_DELETED', departmentId: id, source: 'callback' },
    ]);
  });
});

describe('events the console does not produce', () => {
  it('update_user with NewUserID carries the new userid', async ({ service, published, sender }) => {
    await send(service.url, sender.post(sender.changeContact('update_user', { UserID: 'old_id', NewUserID: 'new_id', Name: '改号' })));
    await service.app.callback!.idle();
    expect(published.at(-1)).toEqual({
      kind: 'USER_UPDATED',
      userid: 'old_id',
      newUserid: 'new_id',
      changedFields: ['userid', 'name'],
      source: 'callback',
    });
  });

  it('an unknown ChangeType is read as "anything may have changed"', async ({ service, published, sender }) => {
    published.length = 0;
    await send(service.url, sender.post(sender.changeContact('merge_corp', { Id: 1 })));
    await service.app.callback!.idle();
    expect(published).toEqual([{ kind: 'DIRECTORY_RELOADED', source: 'callback' }]);
  });

  it('acknowledges other events and messages without publishing anything', async ({ service, published, sender }) => {
    published.length = 0;
    const msg = (fields: Record<string, string | number>) =>
      CallbackSender.xml({ ToUserName: sender.options.corpId, FromUserName: 'zhangsan', CreateTime: 1_700_000_000, ...fields });
    expect(await send(service.url, sender.post(msg({ MsgType: 'text', Content: 'hello' })))).toEqual({ status: 200, text: 'success' });
    expect(await send(service.url, sender.post(msg({ MsgType: 'event', Event: 'enter_agent' })))).toEqual({ status: 200, text: 'success' });
    await service.app.callback!.idle();
    expect(published).toEqual([]);
  });

  it('batch_job_result: an import this service does not track reloads the directory; an export changes nothing', async ({
    service,
    published,
    sender,
  }) => {
    published.length = 0;
    const job = (type: string, id: string) =>
      `<xml><ToUserName><![CDATA[${sender.options.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000001</CreateTime>` +
      `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[batch_job_result]]></Event><BatchJob><JobId><![CDATA[${id}]]></JobId>` +
      `<JobType><![CDATA[${type}]]></JobType><ErrCode>0</ErrCode><ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob></xml>`;
    await send(service.url, sender.post(job('sync_user', 'job-elsewhere-1')));
    await send(service.url, sender.post(job('export_user', 'job-elsewhere-2')));
    await service.app.callback!.idle();
    expect(published).toEqual([{ kind: 'DIRECTORY_RELOADED', source: 'import' }]);
    // a batch_job_result without its job id is malformed
    const res = await send(service.url, sender.post(job('sync_user', '')));
    expect(res).toEqual({ status: 400, text: 'malformed_event' });
  });
});

describe('batch_job_result for an import this service started', () => {
  ownServiceTest(
    'tells the job tracker, and the directory is reloaded once (by the tracker, not again by the callback)',
    async ({ startService }) => {
      const tracked = await startService({ cache: {}, callback: true, listen: true, jobs: { initialPollMs: 20, maxPollMs: 100 } });
      const execute = executor(tracked);
      await deliverCallbacks(tracked);
      const changes: DirectoryChange[] = [];
      tracked.changes.subscribe((c) => changes.push(c));
      const notified: [string, boolean][] = [];
      const notify = tracked.app.jobs.notify.bind(tracked.app.jobs);
      tracked.app.jobs.notify = (jobId) => {
        const known = notify(jobId);
        notified.push([jobId, known]);
        return known;
      };

      const rows = [{ userid: 'job.member', name: '导入者', departmentIds: [1], email: 'job.member@example.com' }];
      const res = await execute(IMPORT_USERS, { rows });
      // Submitted: only the success type has `data` (a refusal would fail here, as it always has).
      const id = (res.data!.importUsers as { data: { id: string } }).data.id;
      const started = Date.now();
      while (tracked.app.callback!.stats().accepted < 1 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 10));
      await tracked.app.callback!.idle();
      while ((await execute(IMPORT_JOB, { id })).data!.importJob!.status !== 'FINISHED' && Date.now() - started < 5_000) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(notified).toEqual([[id, true]]);
      expect(changes).toEqual([{ kind: 'DIRECTORY_RELOADED', source: 'import' }]);
    },
  );
});
