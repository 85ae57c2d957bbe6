import { createDecipheriv, createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { EmulatorHarness, Wire } from '../src/testing.ts';
import { emulatorTest, largeCorpTest } from './fixtures.ts';
import { CallbackReceiver } from './callback-receiver.ts';

const it = emulatorTest();
const itLarge = largeCorpTest();

const KEY = 'IJUiXNpvGbODwKEBSEsAeOAPAhkqHqNCF6g19t9wfg2';
type Caller = 'contact' | 'app' | 'sales';

const salesAgentId = (h: EmulatorHarness) => h.creds.apps.find((a) => a.name === '销售助手')!.agentId;

function callAs(h: EmulatorHarness, caller: Caller, path: string, options: { query?: Wire; body?: Wire }) {
  if (caller === 'contact') return h.asContact(path, options);
  return h.asApp(path, options, caller === 'sales' ? salesAgentId(h) : undefined);
}

/** Polls export/get_result until the job is done (or failed); returns every status seen. */
async function waitForExport(h: EmulatorHarness, jobid: string, caller: Caller = 'contact'): Promise<{ statuses: number[]; final: Wire }> {
  const statuses: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const res = (await callAs(h, caller, 'export/get_result', { query: { jobid } })).json;
    expect(res.errcode).toBe(0);
    statuses.push(res.status);
    if (res.status >= 2) return { statuses, final: res };
    expect(res.data_list).toBeUndefined();
  }
  throw new Error(`export ${jobid} did not finish`);
}

async function runExport(h: EmulatorHarness, kind: string, body: Wire = {}, caller: Caller = 'contact'): Promise<Wire> {
  const accepted = (await callAs(h, caller, `export/${kind}`, { body: { encoding_aeskey: KEY, ...body } })).json;
  expect(accepted).toMatchObject({ errcode: 0, errmsg: 'ok' });
  expect(accepted.jobid).toMatch(/^[A-Za-z0-9]{1,64}$/);
  const { statuses, final } = await waitForExport(h, accepted.jobid, caller);
  for (let i = 1; i < statuses.length; i++) expect(statuses[i]!).toBeGreaterThanOrEqual(statuses[i - 1]!);
  expect(final.status).toBe(2);
  return { ...final, jobid: accepted.jobid, statuses };
}

const download = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
};

/**
 * WeCom's export decryption, written here with node:crypto alone: AES-256-CBC, key =
 * base64decode(encoding_aeskey + "="), IV = key[0:16], PKCS#7 padding to 32-byte blocks.
 */
function decrypt(encodingAesKey: string, ciphertext: Buffer): Wire {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  expect(key.length).toBe(32);
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  expect(plain.length % 32).toBe(0);
  const pad = plain[plain.length - 1]!;
  expect(pad).toBeGreaterThanOrEqual(1);
  expect(pad).toBeLessThanOrEqual(32);
  expect([...plain.subarray(plain.length - pad)].every((b) => b === pad)).toBe(true);
  return JSON.parse(plain.subarray(0, plain.length - pad).toString('utf8'));
}

/** Downloads every file of a finished export, checks size and md5, and decrypts it. */
async function files(final: Wire, key = KEY): Promise<Wire[]> {
  const out: Wire[] = [];
  for (const item of final.data_list as Wire[]) {
    expect(Object.keys(item)).toEqual(['url', 'size', 'md5']);
    const { status, bytes } = await download(item.url);
    expect(status).toBe(200);
    expect(bytes.length).toBe(item.size);
    expect(createHash('md5').update(bytes).digest('hex')).toBe(item.md5);
    out.push(decrypt(key, bytes));
  }
  return out;
}

const byUserid = (list: Wire[]) => new Map(list.map((u) => [u.userid, u]));
const departmentItem = (d: Wire) => ({
  id: d.id,
  name: d.name,
  ...(d.name_en ? { name_en: d.name_en } : {}),
  parentid: d.parentid,
  order: d.order,
});

describe('exports as the contacts-sync secret', () => {
  it('export/simple_user holds every member in the user/simplelist shape', async ({ wecom }) => {
    const final = await runExport(wecom, 'simple_user');
    expect(final.data_list).toHaveLength(1);
    const [doc] = await files(final);
    expect(Object.keys(doc!)).toEqual(['userlist']);
    const expected = (await wecom.asContact('user/simplelist', { query: { department_id: 1, fetch_child: 1 } })).json.userlist;
    expect(doc!.userlist).toHaveLength(expected.length);
    expect(byUserid(doc!.userlist)).toEqual(byUserid(expected));
  });

  it('export/user holds every member in the user/list shape, and the job passes through 0/1 to 2', async ({ wecom }) => {
    const final = await runExport(wecom, 'user');
    expect(final.statuses.every((s: number) => [0, 1, 2].includes(s))).toBe(true);
    const [doc] = await files(final);
    const expected = (await wecom.asContact('user/list', { query: { department_id: 1, fetch_child: 1 } })).json.userlist;
    expect(doc!.userlist).toHaveLength(400);
    expect(byUserid(doc!.userlist)).toEqual(byUserid(expected));
  });

  it('export/department holds the department/list tree without department_leader', async ({ wecom }) => {
    const [doc] = await files(await runExport(wecom, 'department'));
    const expected = (await wecom.asContact('department/list')).json.department.map(departmentItem);
    expect(doc).toEqual({ department: expected });
  });

  it('export/taguser holds the tag as tag/get shows it', async ({ wecom }) => {
    const [doc] = await files(await runExport(wecom, 'taguser', { tagid: 1 }));
    const { errcode: _e, errmsg: _m, ...expected } = (await wecom.asContact('tag/get', { query: { tagid: 1 } })).json;
    expect(doc).toEqual(expected);
    expect(doc!.userlist.length).toBeGreaterThan(0);
  });

  it('reflects the directory at submission time, including changes made just before', async ({ wecom }) => {
    expect((await wecom.console('department/create', { name: '导出前新建', parentid: 1, id: 7000 })).json.errcode).toBe(0);
    const [doc] = await files(await runExport(wecom, 'department'));
    expect(doc!.department).toContainEqual({ id: 7000, name: '导出前新建', parentid: 1, order: 0 });
  });
});

describe('export completion events', () => {
  it("go to the contacts-sync callback for the contacts-sync secret's exports", async ({ wecom }) => {
    const { token, encodingAESKey } = wecom.creds.callback;
    const receiver = new CallbackReceiver(token, encodingAESKey, wecom.creds.corpId);
    await receiver.start();
    try {
      expect((await wecom.admin('callback', 'POST', { url: receiver.url })).status).toBe(200);
      const final = await runExport(wecom, 'department');
      const [post] = await receiver.waitFor('POST', 1);
      expect(receiver.open(post!).event).toEqual({
        ToUserName: wecom.creds.corpId,
        FromUserName: 'sys',
        CreateTime: expect.stringMatching(/^\d+$/),
        MsgType: 'event',
        Event: 'batch_job_result',
        BatchJob: { JobId: final.jobid, JobType: 'export_department', ErrCode: '0', ErrMsg: 'ok' },
      });
    } finally {
      await wecom.admin('callback', 'POST', { url: null });
      await receiver.close();
    }
  });
});

describe('exports by an app', () => {
  it('export only what the app may see (every member it exports is readable by it, every other member is not)', async ({ wecom }) => {
    const [doc] = await files(await runExport(wecom, 'simple_user', {}, 'sales'));
    const exported = new Set<string>(doc!.userlist.map((u: Wire) => u.userid));
    expect(exported.size).toBeGreaterThan(0);
    const everyone: Wire[] = (await wecom.console('user/simplelist', { department_id: 1, fetch_child: 1 })).json.userlist;
    expect(exported.size).toBeLessThan(everyone.length);
    for (const u of everyone) {
      const read = (await callAs(wecom, 'sales', 'user/get', { query: { userid: u.userid } })).json.errcode;
      expect([u.userid, read === 0]).toEqual([u.userid, exported.has(u.userid)]);
    }
    const [departments] = await files(await runExport(wecom, 'department', {}, 'sales'));
    const visible = (await callAs(wecom, 'sales', 'department/list', {})).json.department.map(departmentItem);
    expect(departments).toEqual({ department: visible });
  });

  it('withholds the sensitive fields from an app under the 2022-06-20 rule, as user/list does', async ({ wecom }) => {
    await wecom.faults({ withholdSensitiveFields: true });
    const [doc] = await files(await runExport(wecom, 'user', {}, 'app'));
    const expected = (await wecom.asApp('user/list', { query: { department_id: 1, fetch_child: 1 } })).json.userlist;
    expect(byUserid(doc!.userlist)).toEqual(byUserid(expected));
    expect(doc!.userlist.every((u: Wire) => u.mobile === undefined && u.gender === '0')).toBe(true);
  });

  it('refuses the directory exports to the contacts-sync secret under the 2022-08-15 rule (48002), not to apps', async ({ wecom }) => {
    await wecom.faults({ restrictContactReads: true });
    for (const kind of ['simple_user', 'user', 'department']) {
      expect((await wecom.asContact(`export/${kind}`, { body: { encoding_aeskey: KEY } })).json.errcode).toBe(48002);
      expect((await wecom.asApp(`export/${kind}`, { body: { encoding_aeskey: KEY } })).json.errcode).toBe(0);
    }
    expect((await wecom.asContact('export/taguser', { body: { encoding_aeskey: KEY, tagid: 1 } })).json.errcode).toBe(0);
  });
});

describe('export parameters', () => {
  it.for([
    ['simple_user', {}, 40058],
    ['user', { encoding_aeskey: '' }, 40058],
    ['user', { encoding_aeskey: KEY.slice(1) }, 40058],
    ['user', { encoding_aeskey: `${KEY}A` }, 40058],
    ['user', { encoding_aeskey: `${KEY.slice(1)}+` }, 40058],
    ['department', { encoding_aeskey: KEY, block_size: 9_999 }, 40058],
    ['department', { encoding_aeskey: KEY, block_size: 1_000_001 }, 40058],
    ['department', { encoding_aeskey: KEY, block_size: '10000' }, 40058],
    ['department', { encoding_aeskey: KEY, block_size: 10_000.5 }, 40058],
    ['taguser', { encoding_aeskey: KEY }, 41017],
    ['taguser', { encoding_aeskey: KEY, tagid: 99_999 }, 40068],
    ['taguser', { encoding_aeskey: KEY, tagid: 'x' }, 40068],
  ])('export/%s refuses %j with %i', async ([kind, body, errcode], { wecom }) => {
    expect((await wecom.asContact(`export/${kind}`, { body })).json.errcode).toBe(errcode);
  });

  it('accepts block_size at both ends of [10^4, 10^6], and 0 (not set: the default)', async ({ wecom }) => {
    for (const block_size of [10_000, 1_000_000, 0]) {
      expect((await wecom.asContact('export/department', { body: { encoding_aeskey: KEY, block_size } })).json.errcode).toBe(0);
    }
  });

  it('answers get_result only to the identity that submitted the job (40088 otherwise) and 40088 for unknown ids', async ({ wecom }) => {
    const final = await runExport(wecom, 'department');
    expect((await wecom.asApp('export/get_result', { query: { jobid: final.jobid } })).json.errcode).toBe(40088);
    expect((await wecom.asContact('export/get_result', { query: { jobid: 'jobid_unknown' } })).json.errcode).toBe(40088);
    expect((await wecom.asContact('export/get_result')).json.errcode).toBe(40088);
    // An import job's id is not an export job.
    expect((await wecom.asContact('batch/getresult', { query: { jobid: final.jobid } })).json.errcode).toBe(40088);
  });
});

describe('export downloads', () => {
  it('answer HTTP Range requests', async ({ wecom }) => {
    const final = await runExport(wecom, 'user');
    const { url, size, md5 } = final.data_list[0];
    const whole = (await download(url)).bytes;
    expect((await download(url)).headers.get('accept-ranges')).toBe('bytes');

    const head = await download(url, { range: 'bytes=0-99' });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-99/${size}`);
    expect(head.bytes).toEqual(whole.subarray(0, 100));
    const middle = await download(url, { range: `bytes=100-${size - 17}` });
    expect(middle.status).toBe(206);
    const tail = await download(url, { range: 'bytes=-16' });
    expect(tail.headers.get('content-range')).toBe(`bytes ${size - 16}-${size - 1}/${size}`);
    const joined = Buffer.concat([head.bytes, middle.bytes, tail.bytes]);
    expect(createHash('md5').update(joined).digest('hex')).toBe(md5);

    const open = await download(url, { range: `bytes=${size - 10}-` });
    expect(open.bytes).toEqual(whole.subarray(size - 10));
    const beyond = await download(url, { range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
  });

  it('expire 2 hours after the file was written (403), while get_result still lists them', async ({ wecom }) => {
    const final = await runExport(wecom, 'department');
    const { url } = final.data_list[0];
    // A minute short of 2 hours: real seconds also pass on a busy machine.
    await wecom.admin('clock', 'POST', { advanceSeconds: 2 * 3600 - 60 });
    expect((await download(url)).status).toBe(200);
    await wecom.admin('clock', 'POST', { advanceSeconds: 60 });
    const expired = await download(url);
    expect(expired.status).toBe(403);
    // The 2-hour token has expired too: get a fresh one as a client would.
    const token = (await wecom.call('gettoken', { query: { corpid: wecom.creds.corpId, corpsecret: wecom.creds.contactSecret } })).json
      .access_token;
    const again = (await wecom.call('export/get_result', { token, query: { jobid: final.jobid } })).json;
    expect(again).toMatchObject({ errcode: 0, status: 2 });
    expect(again.data_list).toEqual(final.data_list);
  });

  it('are gone after POST /__emulator/reset (404), with their jobs (40088)', async ({ wecom }) => {
    const final = await runExport(wecom, 'department');
    await wecom.reset();
    expect((await download(final.data_list[0].url)).status).toBe(404);
    expect((await wecom.asContact('export/get_result', { query: { jobid: final.jobid } })).json.errcode).toBe(40088);
  });
});

describe('exports of a large corp', () => {
  itLarge('split into files of block_size records and add up to the whole directory', async ({ wecom: large }) => {
    const final = await runExport(large, 'user', { block_size: 10_000 });
    expect(final.statuses).toContain(1);
    const docs = await files(final);
    expect(docs.map((d) => d.userlist.length)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 400]);
    const exported = docs.flatMap((d) => d.userlist.map((u: Wire) => u.userid as string));

    const ids: string[] = [];
    let cursor = '';
    do {
      const page = (await large.asContact('user/list_id', { body: { cursor, limit: 10_000 } })).json;
      ids.push(...page.dept_user.map((r: Wire) => r.userid as string));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(exported).size).toBe(exported.length);
    expect(new Set(exported)).toEqual(new Set(ids));
  });
});
