import { describe, expect } from 'vitest';
import { allSecrets, failure } from './helpers.ts';
import { wecomTest } from '../testkit/wecom.ts';
import type { WeComClient } from '../../src/wecom/client.ts';
import { type WeComApiError, WeComHttpError } from '../../src/wecom/errors.ts';
import type { ImportJobResult } from '../../src/wecom/batch.ts';
import type { ExportJobResult } from '../../src/wecom/export.ts';
import { decryptExportFile } from '../../src/wecom/export.ts';
import { aesEncrypt } from 'wecom-protocol/crypto';

/** The client's media, batch (imports, invite) and export groups against the emulator over HTTP. */

const it = wecomTest();
const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';

async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > until) throw new Error('job did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const finishedImport = (client: WeComClient, jobid: string) =>
  poll(
    () => client.batch.getResult(jobid),
    (j: ImportJobResult) => j.status === 3,
  );
const finishedExport = (client: WeComClient, jobid: string) =>
  poll(
    () => client.export.getResult(jobid),
    (j: ExportJobResult) => j.status === 2 || j.status === 3,
  );

const csv = (rows: (string | number)[][]) => Buffer.from(rows.map((r) => r.join(',')).join('\n'), 'utf8');

describe('media', () => {
  it('upload sends the multipart part `media` and returns the media id', async ({ client }) => {
    const uploaded = await client.media.upload({ data: csv([['姓名', '帐号']]), filename: 'members.csv', type: 'file' });
    expect(uploaded.type).toBe('file');
    expect(uploaded.mediaId).toEqual(expect.any(String));
    expect(uploaded.createdAt).toMatch(/^\d+$/);
  });

  it('an empty file is refused (44001)', async ({ client, watch }) => {
    const err = await failure(watch, client.media.upload({ data: Buffer.alloc(0), filename: 'empty.csv', type: 'file' }));
    expect((err as WeComApiError).errcode).toBe(44001);
  });
});

describe('batch', () => {
  it('syncUser imports a member file and getResult reports each record', async ({ emulator, client }) => {
    const yujing = (await emulator.console('user/get', { userid: 'yujing' })).json;
    const file = csv([
      ['姓名', '帐号', '手机号', '邮箱', '所在部门', '职位'],
      ['导入新人', 'import.new', '13800001234', '', '2', '工程师'],
      [yujing.name, 'yujing', yujing.mobile, yujing.email, '2;3', '导入职位'],
    ]);
    const { mediaId } = await client.media.upload({ data: file, filename: 'sync.csv', type: 'file' });
    const { jobid } = await client.batch.syncUser({ mediaId, toInvite: false });
    const job = await finishedImport(client, jobid);
    expect(job).toMatchObject({ status: 3, type: 'sync_user', total: 2, percentage: 100 });
    expect(job.result.map((r) => [r.userid, r.errcode]).sort()).toEqual([
      ['import.new', 0],
      ['yujing', 0],
    ]);
    expect((await emulator.console('user/get', { userid: 'import.new' })).json).toMatchObject({ name: '导入新人', department: [2] });
    expect((await emulator.console('user/get', { userid: 'yujing' })).json.position).toBe('导入职位');
  });

  it('replaceUser keeps the members in the file and adds the new one', async ({ emulator, client }) => {
    const members = (await emulator.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as {
      userid: string;
      name: string;
      mobile: string;
      email: string;
      department: number[];
    }[];
    const rows: (string | number)[][] = [['姓名', '帐号', '手机号', '邮箱', '所在部门']];
    for (const m of members) rows.push([m.name, m.userid, m.mobile, m.email, m.department.join(';')]);
    rows.push(['全量新人', 'replace.new', '13800004321', '', '1']);
    const { mediaId } = await client.media.upload({ data: csv(rows), filename: 'replace.csv', type: 'file' });
    const { jobid } = await client.batch.replaceUser({ mediaId, toInvite: false });
    const job = await finishedImport(client, jobid);
    expect(job).toMatchObject({ status: 3, type: 'replace_user', total: members.length + 1 });
    expect((await emulator.console('user/get', { userid: 'replace.new' })).json.errcode).toBe(0);
    expect((await emulator.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist).toHaveLength(members.length + 1);
  });

  it('replaceParty applies a department file and reports the action bits', async ({ emulator, client }) => {
    const departments = (await emulator.console('department/list', {})).json.department as {
      id: number;
      name: string;
      parentid: number;
      order: number;
    }[];
    const rows: (string | number)[][] = [['部门名称', '部门ID', '父部门ID', '排序']];
    for (const d of departments) rows.push([d.name, d.id, d.parentid, d.order]);
    rows.push(['导入部门', 7777, 2, 10]);
    const { mediaId } = await client.media.upload({ data: csv(rows), filename: 'parties.csv', type: 'file' });
    const { jobid } = await client.batch.replaceParty({ mediaId });
    const job = await finishedImport(client, jobid);
    expect(job.type).toBe('replace_party');
    expect(job.result.find((r) => r.partyid === 7777)).toMatchObject({ action: 1, errcode: 0 });
    expect((await emulator.console('department/get', { id: 7777 })).json.department).toMatchObject({ name: '导入部门', parentid: 2 });
  });

  it('getResult of an unknown job is 40088', async ({ client, watch }) => {
    const err = await failure(watch, client.batch.getResult('no-such-job'));
    expect((err as WeComApiError).errcode).toBe(40088);
  });

  it('invite reports the refused targets and invites the rest', async ({ client }) => {
    const result = await client.batch.invite({ user: ['yujing', 'nobody1'], party: [2], tag: [1, 9999] });
    expect(result).toEqual({ invalidUsers: ['nobody1'], invalidParties: [], invalidTags: [9999] });
  });
});

describe('export', () => {
  it('simpleUsers, users, departments and tagUsers produce files the client decrypts', async ({ emulator, client }) => {
    const members = (await emulator.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist as { userid: string }[];
    const departments = (await emulator.console('department/list', {})).json.department as { id: number }[];

    const simple = await finishedExport(client, (await client.export.simpleUsers({ encodingAesKey: KEY })).jobid);
    expect(simple.status).toBe(2);
    const simpleFile = await client.export.downloadJson<{ userlist: { userid: string; openUserid?: string }[] }>(simple.dataList[0]!, KEY);
    expect(simpleFile.userlist.map((u) => u.userid).sort()).toEqual(members.map((m) => m.userid).sort());

    const detailed = await finishedExport(client, (await client.export.users({ encodingAesKey: KEY, blockSize: 10_000 })).jobid);
    const userFile = await client.export.downloadJson<{ userlist: { userid: string; isLeaderInDept: number[] }[] }>(
      detailed.dataList[0]!,
      KEY,
    );
    expect(userFile.userlist).toHaveLength(members.length);
    expect(userFile.userlist.every((u) => Array.isArray(u.isLeaderInDept))).toBe(true);

    const depts = await finishedExport(client, (await client.export.departments({ encodingAesKey: KEY })).jobid);
    const deptFile = await client.export.downloadJson<{ department: { id: number }[] }>(depts.dataList[0]!, KEY);
    expect(deptFile.department.map((d) => d.id).sort((a, b) => a - b)).toEqual(departments.map((d) => d.id).sort((a, b) => a - b));

    const tag = (await emulator.console('tag/get', { tagid: 1 })).json;
    const tagJob = await finishedExport(client, (await client.export.tagUsers({ tagid: 1, encodingAesKey: KEY })).jobid);
    const tagFile = await client.export.downloadJson<{ tagname: string; userlist: { userid: string }[]; partylist: number[] }>(
      tagJob.dataList[0]!,
      KEY,
    );
    expect(tagFile.tagname).toBe(tag.tagname);
    expect(tagFile.userlist.map((u) => u.userid).sort()).toEqual(tag.userlist.map((u: { userid: string }) => u.userid).sort());
  });

  it('a download that does not match its md5 is refused', async ({ client, watch }) => {
    const job = await finishedExport(client, (await client.export.departments({ encodingAesKey: KEY })).jobid);
    const file = job.dataList[0]!;
    const err = await failure(watch, client.export.download({ ...file, md5: '0'.repeat(32) }, KEY));
    expect(err).toBeInstanceOf(WeComHttpError);
    expect((err as WeComHttpError).message).toContain('md5');
  });

  it('an expired download link (2 hours) is an HTTP error', async ({ emulator, client, watch }) => {
    const job = await finishedExport(client, (await client.export.departments({ encodingAesKey: KEY })).jobid);
    await emulator.admin('clock', 'POST', { advanceSeconds: 2 * 3600 + 1 });
    const err = await failure(watch, client.export.download(job.dataList[0]!, KEY));
    expect((err as WeComHttpError).status).toBe(403);
  });

  it('decryptExportFile reads raw or base64 files, bare JSON or the callback envelope', () => {
    const json = '{"department":[{"id":1}]}';
    const bare = aesEncrypt(KEY, Buffer.from(json));
    expect(decryptExportFile(bare, KEY)).toBe(json);
    expect(decryptExportFile(Buffer.from(bare.toString('base64')), KEY)).toBe(json);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(Buffer.byteLength(json));
    const envelope = aesEncrypt(KEY, Buffer.concat([Buffer.alloc(16, 7), len, Buffer.from(json), Buffer.from('wwcorp')]));
    expect(decryptExportFile(envelope, KEY)).toBe(json);
  });
});

it('no error or log line of this file contains a secret or a token', ({ emulator, watch }) => {
  watch.assertClean(allSecrets(emulator));
});
