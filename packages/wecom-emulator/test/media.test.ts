import { describe, expect } from 'vitest';
import type { EmulatorHarness, Wire } from '../src/testing.ts';
import { emulatorTest } from './fixtures.ts';

const it = emulatorTest();

const MB = 1024 * 1024;
const DAY = 86_400;

/** Files that start with the magic bytes of each accepted format, padded to `size` bytes. */
const padded = (head: Buffer | string, size: number) => {
  const start = typeof head === 'string' ? Buffer.from(head, 'latin1') : head;
  return Buffer.concat([start, Buffer.alloc(Math.max(0, size - start.length), 0x20)]).subarray(0, size);
};
const jpg = (size = 64) => padded(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), size);
const png = (size = 64) => padded(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), size);
const gif = (size = 64) => padded('GIF89a', size);
const amr = (size = 64) => padded('#!AMR\n', size);
const mp4 = (size = 64) => padded(Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42')]), size);
const csv = (text = '姓名,帐号,手机号,所在部门\n张三,zhangsan,13800000000,1\n') => Buffer.from(text, 'utf8');

async function upload(
  wecom: EmulatorHarness,
  type: string | undefined,
  bytes: Buffer,
  options: { part?: string; filename?: string; token?: 'contact' | 'app' } = {},
) {
  const form = new FormData();
  form.append(options.part ?? 'media', new Blob([new Uint8Array(bytes)]), options.filename ?? 'upload.bin');
  const query: Record<string, string> = type === undefined ? {} : { type };
  return options.token === 'app'
    ? wecom.asApp('media/upload', { query, body: form })
    : wecom.asContact('media/upload', { query, body: form });
}

const clockNow = async (wecom: EmulatorHarness): Promise<number> => (await wecom.admin('clock')).json.now;

describe('media/upload', () => {
  it('answers type, media_id and created_at (a string) with an empty errmsg', async ({ wecom }) => {
    const before = await clockNow(wecom);
    const res = await upload(wecom, 'file', csv(), { filename: '成员.csv' });
    const after = await clockNow(wecom);
    expect(res.status).toBe(200);
    expect(Object.keys(res.json)).toEqual(['errcode', 'errmsg', 'type', 'media_id', 'created_at']);
    expect(res.json).toMatchObject({ errcode: 0, errmsg: '', type: 'file' });
    expect(res.json.media_id).toMatch(/^[0-9A-Za-z_-]{20,}$/);
    expect(typeof res.json.created_at).toBe('string');
    expect(Number(res.json.created_at)).toBeGreaterThanOrEqual(before);
    expect(Number(res.json.created_at)).toBeLessThanOrEqual(after);
  });

  it('gives every upload its own media_id and accepts any token', async ({ wecom }) => {
    const a = await upload(wecom, 'file', csv());
    const b = await upload(wecom, 'file', csv(), { token: 'app' });
    expect(a.json.errcode).toBe(0);
    expect(b.json.errcode).toBe(0);
    expect(a.json.media_id).not.toBe(b.json.media_id);
  });

  it.for([
    ['image', jpg()],
    ['image', png()],
    ['voice', amr()],
    ['voice', padded('#!AMR-WB\n', 64)],
    ['video', mp4()],
    ['file', gif()],
  ] as [string, Buffer][])('accepts a %s in its format', async ([type, bytes], { wecom }) => {
    expect((await upload(wecom, type, bytes)).json).toMatchObject({ errcode: 0, type });
  });

  it.for([
    ['image', gif()],
    ['image', csv()],
    ['voice', mp4()],
    ['video', amr()],
  ] as [string, Buffer][])('refuses a %s whose content is another format (40004)', async ([type, bytes], { wecom }) => {
    expect((await upload(wecom, type, bytes)).json.errcode).toBe(40004);
  });

  it.for([[undefined], ['doc'], ['IMAGE'], ['']])('refuses the type parameter %j (40005)', async ([type], { wecom }) => {
    expect((await upload(wecom, type, csv())).json.errcode).toBe(40005);
  });

  it('refuses a body without a part named "media" (44001), an empty file (44001) and files of 5 bytes or fewer (40006)', async ({
    wecom,
  }) => {
    expect((await upload(wecom, 'file', csv(), { part: 'file' })).json.errcode).toBe(44001);
    const notMultipart = await wecom.asContact('media/upload', { query: { type: 'file' }, body: { media: 'x' } });
    expect(notMultipart.json.errcode).toBe(44001);
    expect((await upload(wecom, 'file', Buffer.alloc(0))).json.errcode).toBe(44001);
    expect((await upload(wecom, 'file', Buffer.from('12345'))).json.errcode).toBe(40006);
    expect((await upload(wecom, 'file', Buffer.from('123456'))).json.errcode).toBe(0);
  });

  it('checks the filelength of the Content-Disposition when the client sends one (40006)', async ({ wecom }) => {
    const multipart = (filelength: number, content: string) =>
      Buffer.from(
        `--b0undary\r\nContent-Disposition: form-data; name="media";filename="wework.txt"; filelength=${filelength}\r\n` +
          `Content-Type: application/octet-stream\r\n\r\n${content}\r\n--b0undary--\r\n`,
      );
    const send = (body: Buffer) =>
      wecom.asContact('media/upload', {
        query: { type: 'file' },
        body,
        headers: { 'content-type': 'multipart/form-data; boundary=b0undary' },
      });
    expect((await send(multipart(6, 'wework'))).json).toMatchObject({ errcode: 0, type: 'file' });
    expect((await send(multipart(7, 'wework'))).json.errcode).toBe(40006);
  });

  it.for([
    ['image', jpg, 10 * MB],
    ['voice', amr, 2 * MB],
    ['video', mp4, 10 * MB],
    ['file', (size: number) => padded('a', size), 20 * MB],
  ] as const)('takes a %s of exactly its limit and refuses one byte more (45001)', async ([type, make, limit], { wecom }) => {
    expect((await upload(wecom, type, make(limit))).json.errcode).toBe(0);
    expect((await upload(wecom, type, make(limit + 1))).json.errcode).toBe(45001);
  });
});

describe('media_id lifetime', () => {
  const smallImport = () => csv('姓名,帐号,手机号,所在部门\n王伟,wangwei,13912345678,1\n');

  it('is valid for 3 days by the emulator clock, then answers 40007 (imports) and 301015 (avatars)', async ({ wecom }) => {
    const file = (await upload(wecom, 'file', smallImport())).json.media_id;
    const image = (await upload(wecom, 'image', png())).json.media_id;
    const userid = (await wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[5].userid as string;

    // A minute short of 3 days: real seconds also pass while the test runs on a busy machine.
    await wecom.admin('clock', 'POST', { advanceSeconds: 3 * DAY - 60 });
    // Tokens live 2 hours, so after the jump the calls go through the console (no token).
    expect((await wecom.console('user/update', { userid, avatar_mediaid: image })).json.errcode).toBe(0);
    const job = await wecom.console('batch/syncuser', { media_id: file });
    expect(job.json.errcode).toBe(0);
    await waitForImport(wecom, job.json.jobid);

    await wecom.admin('clock', 'POST', { advanceSeconds: 60 });
    const before = (await wecom.console('user/get', { userid })).json;
    expect((await wecom.console('batch/syncuser', { media_id: file })).json.errcode).toBe(40007);
    expect((await wecom.console('user/update', { userid, avatar_mediaid: image, name: '改名' })).json.errcode).toBe(301015);
    expect((await wecom.console('user/get', { userid })).json).toEqual(before);
  });

  it('does not survive POST /__emulator/reset', async ({ wecom }) => {
    const file = (await upload(wecom, 'file', smallImport())).json.media_id;
    await wecom.reset();
    expect((await wecom.asContact('batch/syncuser', { body: { media_id: file } })).json.errcode).toBe(40007);
  });

  it('gives an avatar only from an image upload (301015 for a file)', async ({ wecom }) => {
    const file = (await upload(wecom, 'file', smallImport())).json.media_id;
    const userid = (await wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[3].userid as string;
    const before = (await wecom.console('user/get', { userid })).json;
    expect((await wecom.asContact('user/update', { body: { userid, avatar_mediaid: file } })).json.errcode).toBe(301015);
    expect((await wecom.console('user/get', { userid })).json).toEqual(before);
  });
});

async function waitForImport(wecom: EmulatorHarness, jobid: string): Promise<Wire> {
  for (let i = 0; i < 1000; i++) {
    const res = await wecom.console('batch/getresult', { jobid });
    if (res.json.status === 3) return res.json;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${jobid} did not finish`);
}

describe('media/get', () => {
  /** A token issued now: tokens live 2 hours, so after a clock jump the cached one is expired. */
  const freshToken = async (wecom: EmulatorHarness) =>
    (await wecom.call('gettoken', { query: { corpid: wecom.creds.corpId, corpsecret: wecom.creds.contactSecret } })).json
      .access_token as string;
  const download = async (
    wecom: EmulatorHarness,
    mediaId: string,
    options: { token?: 'contact' | 'app' | 'fresh'; headers?: Record<string, string> } = {},
  ) => {
    const token =
      options.token === 'app' ? await wecom.appToken() : options.token === 'fresh' ? await freshToken(wecom) : await wecom.contactToken();
    const url = new URL(`/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(mediaId)}`, wecom.url);
    return fetch(url, { headers: options.headers ?? {} });
  };

  it('answers the uploaded bytes with their type and the file name, to any token of the corp', async ({ wecom }) => {
    const bytes = csv();
    const { media_id } = (await upload(wecom, 'file', bytes, { filename: '成员导入.csv' })).json;
    for (const token of ['contact', 'app'] as const) {
      const res = await download(wecom, media_id, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      // RFC 6266: an ASCII fallback and the UTF-8 name
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="????.csv"; filename*=UTF-8''${encodeURIComponent('成员导入.csv')}`,
      );
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }
    const image = await upload(wecom, 'image', png(300), { filename: 'avatar.png' });
    const res = await download(wecom, image.json.media_id);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="avatar.png"');
    expect((await res.arrayBuffer()).byteLength).toBe(300);
    expect((await wecom.stats()).calls['/cgi-bin/media/get']).toBe(3);
  });

  it('serves one byte range for resumed downloads (206), and 416 outside the file', async ({ wecom }) => {
    const bytes = jpg(1000);
    const { media_id } = (await upload(wecom, 'image', bytes)).json;
    const part = await download(wecom, media_id, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await download(wecom, media_id, { headers: { range: 'bytes=900-' } });
    expect((await tail.arrayBuffer()).byteLength).toBe(100);
    const outside = await download(wecom, media_id, { headers: { range: 'bytes=5000-6000' } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */1000');
  });

  it('answers 40007 in JSON once the 3 days have passed on the emulator clock, and for unknown ids; 41006 without one', async ({
    wecom,
  }) => {
    const { media_id } = (await upload(wecom, 'file', csv())).json;
    // A minute short of 3 days: real seconds also pass while the test runs on a busy machine.
    await wecom.admin('clock', 'POST', { advanceSeconds: 3 * DAY - 60 });
    const lastMinute = await download(wecom, media_id, { token: 'fresh' });
    expect(lastMinute.status).toBe(200);
    expect(lastMinute.headers.get('content-disposition')).toContain('upload.bin');
    await wecom.admin('clock', 'POST', { advanceSeconds: 60 });
    const expired = await download(wecom, media_id, { token: 'fresh' });
    expect(expired.status).toBe(200);
    expect(expired.headers.get('content-type')).toContain('application/json');
    expect(await expired.json()).toMatchObject({ errcode: 40007 });
    const token = await freshToken(wecom);
    expect((await wecom.call('media/get', { token, query: { media_id: 'no-such-media' } })).json.errcode).toBe(40007);
    expect((await wecom.call('media/get', { token })).json.errcode).toBe(41006);
    expect((await wecom.call('media/get', { token: 'bogus', query: { media_id } })).json.errcode).toBe(40014);
  });
});
