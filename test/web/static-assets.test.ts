import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ServiceHarness } from '../helpers/service.ts';
import { createApp } from '../../src/server.ts';
import { CONTENT_SECURITY_POLICY } from '../../src/web/csp.ts';

/** Raw HTTP (fetch normalises `..` and decompresses): status, headers and body bytes. */
function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe("the explorer's files, over a real socket", () => {
  let service: ServiceHarness;
  let dist: string;
  const script = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;

  beforeAll(async () => {
    // A build of our own, so these checks do not depend on web/dist.
    dist = mkdtempSync(join(tmpdir(), 'explorer-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>t</title><script type="module" src="/assets/app-abc123.js"></script>');
    writeFileSync(join(dist, 'assets', 'app-abc123.js'), script);
    writeFileSync(join(tmpdir(), 'outside-the-dist.txt'), 'secret');
    service = await ServiceHarness.start({ listen: true });
    // The harness's app serves web/dist; this one serves the folder above, on the same emulator.
    const app = createApp({
      client: service.client,
      changes: service.changes,
      logger: pino({ level: 'silent' }),
      graphiql: false,
      explorer: dist,
    });
    const { createServer } = await import('node:http');
    const server = createServer(app.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  let base = '';
  let closeServer: () => Promise<void> = async () => {};
  afterAll(async () => {
    await closeServer();
    await service.close();
  });

  it('serves the page revalidated and the hashed assets immutable, both with the CSP', async () => {
    const page = await get(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const asset = await get(`${base}/assets/app-abc123.js`);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.body.toString()).toBe(script);
  });

  it('compresses as the browser accepts, and answers 304 to a known ETag', async () => {
    const br = await get(`${base}/assets/app-abc123.js`, { 'accept-encoding': 'gzip, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(script);
    const gz = await get(`${base}/assets/app-abc123.js`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(script);
    const again = await get(`${base}/assets/app-abc123.js`, { 'if-none-match': String(gz.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('never reads outside its folder', async () => {
    for (const path of [
      '/assets/../../outside-the-dist.txt',
      '/assets/%2e%2e/%2e%2e/outside-the-dist.txt',
      '/assets/..%2f..%2foutside-the-dist.txt',
      '/assets/%00',
      '/assets/%E0%A4%A',
    ]) {
      const res = await get(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('secret');
    }
  });

  it('leaves other methods and paths to GraphQL', async () => {
    expect((await get(`${base}/`, {}, 'POST')).status).not.toBe(200);
    expect(
      (await get(`${base}/graphql?query=%7B__typename%7D`, { accept: 'application/json', 'x-graphql-yoga-csrf': '1' })).body.toString(),
    ).toBe('{"data":{"__typename":"Query"}}');
  });

  it('says how to build the explorer when it is not built', async () => {
    const app = createApp({
      client: service.client,
      changes: service.changes,
      logger: pino({ level: 'silent' }),
      graphiql: false,
      explorer: join(dist, 'missing'),
    });
    const { createServer } = await import('node:http');
    const server = createServer(app.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await get(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      expect(res.status).toBe(404);
      expect(res.body.toString()).toContain('npm run build:web');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('extensions.caller', () => {
  let service: ServiceHarness;
  beforeAll(async () => {
    service = await ServiceHarness.start();
  });
  afterAll(() => service.close());

  it('tells the caller its own scopes when asked, and only then', async () => {
    const asked = await service.query('{ __typename }', undefined, { 'x-include-caller': '1' });
    expect(asked).toEqual({
      data: { __typename: 'Query' },
      extensions: { caller: { kind: 'anonymous', scopes: ['directory:read', 'directory:write', 'directory:pii', 'directory:admin'] } },
    });
    expect(await service.query('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });

  it('is on answers served from the response cache too', async () => {
    const cached = await ServiceHarness.start({ cache: {} });
    try {
      const query = '{ department(id: 1) { name } }';
      const first = await cached.query(query, undefined, { 'x-include-caller': '1' });
      await cached.wecom.resetStats();
      const second = await cached.query(query, undefined, { 'x-include-caller': '1' });
      expect(await cached.calls()).toEqual({});
      expect(second).toEqual(first);
      expect(second.extensions).toMatchObject({ caller: { kind: 'anonymous' } });
      expect(await cached.query(query)).toEqual({ data: first.data });
    } finally {
      await cached.close();
    }
  });
});
