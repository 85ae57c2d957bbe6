import { describe, expect } from 'vitest';
import { serviceTest } from '../testkit/service.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { viewKey } from '../../src/cache/response-cache.ts';
import { identityOf } from '../../src/auth/identity.ts';

/** Whole responses over the directory cache: kept while the directory is unchanged, never longer than its TTL. */

const TTL_MS = 60_000;
let clock = 5_000_000;

const it = serviceTest(
  { cache: { ttlMs: TTL_MS, staleMs: 0, maxEntries: 10_000, now: () => clock } },
  { beforeEach: (service) => service.app.cache!.invalidateAll() },
);
/** A second service, on a socket: what HTTP caches and clients see. */
const itOverSocket = serviceTest({ cache: {}, listen: true }, { resetStats: false });

const TREE = '{ department(id: 1) { name children { name members(first: 10) { nodes { userid name } } } } }';

describe('response cache', () => {
  it('answers a repeated query without executing it again: no cache reads, no WeCom calls', async ({ service }) => {
    const first = await service.query(TREE);
    const before = service.app.cache!.stats();
    const again = await service.query(TREE);
    expect(again).toEqual(first);
    const after = service.app.cache!.stats();
    expect(after.hits).toBe(before.hits);
    expect(after.misses).toBe(before.misses);
  });

  it('drops its answers when the directory changes, so the next answer is fresh', async ({ service }) => {
    const first = await service.query('{ department(id: 2) { name } }');
    expect((await service.wecom.console('department/update', { id: 2, name: '研发中心（新）' })).json.errcode).toBe(0);
    // the change reaches the service as it would from a callback
    service.changes.publish({ kind: 'DEPARTMENT_UPDATED', departmentId: 2, source: 'callback' });
    const again = await service.query('{ department(id: 2) { name } }');
    expect(first.data!.department.name).toBe('研发中心');
    expect(again.data!.department.name).toBe('研发中心（新）');
    expect((await service.wecom.console('department/update', { id: 2, name: '研发中心' })).json.errcode).toBe(0);
  });

  it('keeps an answer no longer than the directory cache’s TTL', async ({ service }) => {
    await service.query(TREE);
    clock += TTL_MS + 1;
    await service.wecom.resetStats();
    await service.query(TREE);
    expect((await service.calls())['/cgi-bin/department/list']).toBe(1);
  });

  it('never answers a mutation from the cache: the same write sent twice reaches WeCom twice', async ({ service }) => {
    const userid = ((await service.wecom.console('user/list', { department_id: 2 })).json.userlist as { userid: string }[])[0]!.userid;
    const write = `mutation { updateUser(input: { userid: "${userid}", position: "同一写入" }) { __typename } }`;
    const answers = [await service.query(write), await service.query(write)];
    expect(answers.map((a) => a.data!.updateUser.__typename)).toEqual(['MutationUpdateUserSuccess', 'MutationUpdateUserSuccess']);
    expect((await service.calls())['/cgi-bin/user/update']).toBe(2);
  });

  it('does not cache answers with errors', async ({ service }) => {
    await service.query('{ department(id: 1) { name } }'); // the client holds a token before the fault
    await service.wecom.faults({ errorRate: { '-1': 1 } });
    try {
      expect((await service.query('{ tags { name } }')).errors).toBeDefined();
      await service.wecom.clearFaults();
      expect((await service.query('{ tags { name } }')).errors).toBeUndefined();
    } finally {
      await service.wecom.clearFaults();
    }
  });

  it('shares answers only between callers allowed the same view', () => {
    const reader = identityOf('api-key:a', 'api-key', { read: true, write: false, pii: false, admin: false });
    const sameView = identityOf('api-key:b', 'api-key', { read: true, write: false, pii: false, admin: false });
    const withPii = identityOf('api-key:c', 'api-key', { read: true, write: false, pii: true, admin: false });
    const subtree = identityOf('api-key:d', 'api-key', { read: true, write: false, pii: false, admin: false }, [2]);
    expect(viewKey(reader)).toBe(viewKey(sameView));
    expect(new Set([viewKey(reader), viewKey(withPii), viewKey(subtree)]).size).toBe(3);
  });
});

/** A service whose response cache may keep 16 KB of answers, none above 2 KB (an eighth). */
const itSmallBudget = serviceTest({ cache: {}, responseCache: 16 * 1024 });

describe('response cache budget', () => {
  /** Whether the answer to `query` was kept (the cache holds one more answer after it). */
  const kept = async (service: ServiceHarness, query: string) => {
    const before = service.app.responseCache!.stats().entries;
    const answer = await service.query(query);
    expect(answer.errors).toBeUndefined();
    return service.app.responseCache!.stats().entries === before + 1;
  };

  itSmallBudget('keeps answers up to an eighth of its budget, executes bigger ones again', async ({ service }) => {
    const small = '{ department(id: 2) { name } }';
    const big = '{ departments { departmentId name parentId order } }';
    expect(await kept(service, small)).toBe(true);
    expect(await kept(service, big)).toBe(false);
    expect(JSON.stringify((await service.query(big)).data).length).toBeGreaterThan(2 * 1024);
    expect(service.app.responseCache!.stats().bytes).toBeLessThanOrEqual(16 * 1024);
  });
});

describe('response cache over a real socket', () => {
  itOverSocket('answers a repeated query from the cache with valid HTTP headers (the key is the ETag)', async ({ service: live }) => {
    const ask = () =>
      fetch(`${live.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ department(id: 1) { name } }' }),
        signal: AbortSignal.timeout(5_000),
      });
    const first = await ask();
    expect(first.status).toBe(200);
    const firstBody = await first.json();
    await live.wecom.resetStats();
    const second = await ask();
    expect(second.status).toBe(200);
    expect(second.headers.get('etag')).toMatch(/^[0-9a-f]{40}$/);
    expect(await second.json()).toEqual(firstBody);
    expect((await live.wecom.stats()).total).toBe(0);
  });

  itOverSocket('serves a hit as the same UTF-8 bytes as JSON, as server-sent events and as multipart', async ({ service: live }) => {
    const query = '{ department(id: 2) { name children { name } } }';
    const ask = (accept: string) =>
      fetch(`${live.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify({ query }),
        signal: AbortSignal.timeout(5_000),
      });
    const executed = await (await ask('application/json')).text();
    expect(executed).toMatch(/[\u4e00-\u9fff]/);
    await live.wecom.resetStats();
    const hit = await ask('application/graphql-response+json');
    expect(hit.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    const hitBytes = Buffer.from(await hit.arrayBuffer());
    expect(Number(hit.headers.get('content-length'))).toBe(hitBytes.length);
    expect(hitBytes.toString('utf8')).toBe(executed);
    const events = await (await ask('text/event-stream')).text();
    expect(events).toContain(`event: next\ndata: ${executed}\n\n`);
    const multipart = await (await ask('multipart/mixed')).text();
    expect(multipart).toContain(executed);
    expect((await live.wecom.stats()).total).toBe(0);
  });
});
