import { describe, expect } from 'vitest';
import { type GraphQLResult, ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';

/**
 * The cross-request directory cache over a real emulator: hits, misses, TTL expiry,
 * stale-while-revalidate and in-flight de-duplication, each asserted with the emulator's call
 * counts and the data compared with the emulator's state.
 */

const TTL_MS = 60_000;
const STALE_MS = 30_000;
/** The cache's clock: tests move it instead of waiting. */
let clock = 1_000_000;

// The directory cache alone: the response cache above it would answer repeats before it is asked.
const it = serviceTest(
  { cache: { ttlMs: TTL_MS, staleMs: STALE_MS, maxEntries: 100_000, now: () => clock }, responseCache: false },
  { beforeEach: (service) => service.app.cache!.invalidateAll() },
);

interface WireDept {
  id: number;
  name: string;
  parentid: number;
}
interface WireUser {
  userid: string;
  name: string;
  department: number[];
}

const TREE = `{ department(id: 1) { name children { name children { departmentId name members(first: 500) { totalCount nodes { userid name } } } } } }`;

async function emulatorTree(service: ServiceHarness): Promise<WireDept[]> {
  return (await service.wecom.console('department/list')).json.department;
}

async function level3(service: ServiceHarness): Promise<WireDept[]> {
  const tree = await emulatorTree(service);
  const level2 = new Set(tree.filter((d) => d.parentid === 1).map((d) => d.id));
  return tree.filter((d) => level2.has(d.parentid));
}

async function emulatorMembers(service: ServiceHarness, departmentId: number): Promise<WireUser[]> {
  return (await service.wecom.console('user/list', { department_id: departmentId })).json.userlist;
}

/** Upstream calls since the last reset, gettoken left out (the client may or may not hold a token). */
async function upstream(service: ServiceHarness): Promise<Record<string, number>> {
  const { ['/cgi-bin/gettoken']: _token, ...calls } = await service.calls();
  return calls;
}

/** The tree query's level-3 member lists as the service answered them. */
function membersByDepartment(data: NonNullable<GraphQLResult['data']>): Map<number, { userid: string; name: string }[]> {
  const out = new Map<number, { userid: string; name: string }[]>();
  for (const l2 of data.department.children) for (const l3 of l2.children) out.set(l3.departmentId, l3.members.nodes);
  return out;
}

/** Waits until the emulator has counted `expected` calls (a background refresh finishing). */
async function untilCalls(service: ServiceHarness, expected: Record<string, number>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const calls = await upstream(service);
    if (Object.entries(expected).every(([path, n]) => (calls[path] ?? 0) >= n)) return;
    if (Date.now() > deadline) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(calls)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('cache hits and misses', () => {
  it('answers an org-tree query repeated within the TTL with zero WeCom calls and the same data', async ({ service }) => {
    const departments = await level3(service);
    const first = await service.query(TREE);
    expect(first.errors).toBeUndefined();
    expect(await upstream(service)).toEqual({ '/cgi-bin/department/list': 1, '/cgi-bin/user/list': departments.length });

    await service.wecom.resetStats();
    clock += TTL_MS - 1;
    const again = await service.query(TREE);
    expect(again).toEqual(first);
    expect((await service.wecom.stats()).total).toBe(0);

    // and the data is WeCom's
    const [sample] = departments;
    const expected = await emulatorMembers(service, sample!.id);
    expect(membersByDepartment(again.data!).get(sample!.id)).toEqual(expected.map((u) => ({ userid: u.userid, name: u.name })));
    const stats = service.app.cache!.stats();
    expect(stats.misses).toBe(1 + departments.length);
    // the repeat is served by the shared tree view and one member-list hit per department
    expect(stats.hits).toBeGreaterThanOrEqual(departments.length);
  });

  it('makes the calls of one for N identical concurrent cold queries', async ({ service }) => {
    const departments = await level3(service);
    const results = await Promise.all(Array.from({ length: 8 }, () => service.query(TREE)));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.errors).toBeUndefined();
    expect(await upstream(service)).toEqual({ '/cgi-bin/department/list': 1, '/cgi-bin/user/list': departments.length });
    expect(service.app.cache!.stats().joined).toBeGreaterThan(0);
  });

  it('serves single members from cached member lists, and caches user/get answers, not-found included', async ({ service }) => {
    const [dept] = await level3(service);
    const [member] = await emulatorMembers(service, dept!.id);
    await service.query(`{ department(id: ${dept!.id}) { members { nodes { userid } } } }`);
    await service.wecom.resetStats();

    // primed by the list: no user/get
    const listed = await service.query(`{ user(userid: "${member!.userid}") { userid name } }`);
    expect(listed.data!.user).toEqual({ userid: member!.userid, name: member!.name });
    expect(await upstream(service)).toEqual({});

    // a member of no cached list: one user/get, then none
    const outsider = (await emulatorMembers(service, (await level3(service)).at(-1)!.id))[0]!;
    await service.query(`{ user(userid: "${outsider.userid}") { name } }`);
    const second = await service.query(`{ user(userid: "${outsider.userid}") { name } }`);
    expect(second.data!.user).toEqual({ name: outsider.name });
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/get': 1 });

    // nobody: null, remembered for the TTL
    await service.wecom.resetStats();
    expect((await service.query('{ user(userid: "no-such-member") { name } }')).data!.user).toBeNull();
    expect((await service.query('{ user(userid: "no-such-member") { name } }')).data!.user).toBeNull();
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/get': 1 });
  });

  it('answers a single member from a cached list only while that list is fresh', async ({ service }) => {
    const [dept] = await level3(service);
    const [member] = await emulatorMembers(service, dept!.id);
    await service.query(`{ department(id: ${dept!.id}) { members { nodes { userid } } } }`);
    await service.wecom.resetStats();
    const read = `{ user(userid: "${member!.userid}") { name } }`;
    await service.query(read);
    expect(await upstream(service)).toEqual({});
    clock += TTL_MS + STALE_MS + 1;
    expect((await service.query(read)).data!.user).toEqual({ name: member!.name });
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/get': 1 });
  });

  it('shares derived views (the search index) across requests until a member list changes', async ({ service }) => {
    const query = `{ searchUsers(query: "zhang", first: 5) { totalCount nodes { userid } } }`;
    const first = await service.query(query);
    expect(first.errors).toBeUndefined();
    const built = service.app.cache!.stats().viewBuilds;
    await service.wecom.resetStats();
    expect(await service.query(query)).toEqual(first);
    expect(await upstream(service)).toEqual({});
    expect(service.app.cache!.stats().viewBuilds).toBe(built);
  });

  it('keeps one object for a member listed in several departments, and one per member when they differ', async ({ service }) => {
    const tree = await emulatorTree(service);
    const lists = await Promise.all(tree.map(async (d) => ({ id: d.id, users: await emulatorMembers(service, d.id) })));
    const shared = lists.flatMap((l) => l.users).find((u) => u.department.length > 1);
    if (!shared) throw new Error('the demo seed has a member in two departments');
    const [a, b] = shared.department as [number, number];
    const cache = service.app.cache!;
    const inA = (await cache.members(a)).find((u) => u.userid === shared.userid);
    const inB = (await cache.members(b)).find((u) => u.userid === shared.userid);
    expect(inB).toBe(inA);
    // The member changes between the two reads: each list keeps what WeCom said when it was read.
    cache.invalidateAll();
    const before = (await cache.members(a)).find((u) => u.userid === shared.userid)!;
    expect((await service.wecom.console('user/update', { userid: shared.userid, position: '两处之一' })).json.errcode).toBe(0);
    try {
      const after = (await cache.members(b)).find((u) => u.userid === shared.userid)!;
      expect(after).not.toBe(before);
      expect(after.position).toBe('两处之一');
    } finally {
      await service.wecom.console('user/update', { userid: shared.userid, position: before.position ?? '' });
    }
  });
});

describe('TTL expiry', () => {
  it('past the TTL, serves the cached answer once while it refreshes in the background (stale-while-revalidate)', async ({ service }) => {
    const departments = await level3(service);
    const dept = departments[0]!;
    const [member] = await emulatorMembers(service, dept.id);
    await service.query(TREE);
    // Changed behind the service's back (no callback configured here).
    const renamed = `${member!.name}·改`;
    expect((await service.wecom.console('user/update', { userid: member!.userid, name: renamed })).json.errcode).toBe(0);
    await service.wecom.resetStats();

    clock += TTL_MS + 1;
    const stale = await service.query(TREE);
    expect(
      membersByDepartment(stale.data!)
        .get(dept.id)!
        .find((u) => u.userid === member!.userid)!.name,
    ).toBe(member!.name);
    // the refresh: every expired entry once
    await untilCalls(service, { '/cgi-bin/department/list': 1, '/cgi-bin/user/list': departments.length });

    await service.wecom.resetStats();
    const fresh = await service.query(TREE);
    expect(
      membersByDepartment(fresh.data!)
        .get(dept.id)!
        .find((u) => u.userid === member!.userid)!.name,
    ).toBe(renamed);
    expect(await upstream(service)).toEqual({});
    expect(service.app.cache!.stats().stale).toBeGreaterThan(0);
  });

  it('beyond the stale window, waits for fresh data', async ({ service }) => {
    const departments = await level3(service);
    const dept = departments[1]!;
    const [member] = await emulatorMembers(service, dept.id);
    await service.query(TREE);
    const renamed = `${member!.name}·再改`;
    expect((await service.wecom.console('user/update', { userid: member!.userid, name: renamed })).json.errcode).toBe(0);
    await service.wecom.resetStats();

    clock += TTL_MS + STALE_MS + 1;
    const res = await service.query(TREE);
    expect(
      membersByDepartment(res.data!)
        .get(dept.id)!
        .find((u) => u.userid === member!.userid)!.name,
    ).toBe(renamed);
    expect(await upstream(service)).toEqual({ '/cgi-bin/department/list': 1, '/cgi-bin/user/list': departments.length });
  });

  it('keeps the derived view when a refresh brings the same data', async ({ service }) => {
    const query = `{ searchUsers(query: "li", first: 3) { totalCount } }`;
    await service.query(query);
    const built = service.app.cache!.stats().viewBuilds;
    clock += TTL_MS + STALE_MS + 1;
    await service.wecom.resetStats();
    // Views expire with the TTL too; their rebuild reads lists that refresh to identical data.
    await service.query(query);
    const rebuilt = service.app.cache!.stats().viewBuilds;
    expect(rebuilt).toBe(built + 3); // the tree, allUsers and the search index
    await service.query(query);
    expect(service.app.cache!.stats().viewBuilds).toBe(rebuilt);
  });
});

describe('switched off', () => {
  it('CACHE_ENABLED=false (cache: false) makes every query go upstream', async ({ service }) => {
    const plain = await ServiceHarness.start({ cache: false });
    try {
      expect(plain.app.cache).toBeUndefined();
      await plain.query(TREE);
      await plain.wecom.resetStats();
      await plain.query(TREE);
      const calls = await plain.calls();
      expect(calls['/cgi-bin/department/list']).toBe(1);
      expect(calls['/cgi-bin/user/list']).toBe((await level3(service)).length);
    } finally {
      await plain.close();
    }
  });
});
