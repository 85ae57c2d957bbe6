import { userKey } from 'wecom-protocol/userid';
import { describe, expect, test } from 'vitest';
import { type EmulatorHarness, emulatorFixture } from '../src/testing.ts';
import { seedCorp } from '../src/seed.ts';

interface Dept {
  id: number;
  parentid: number;
  department_leader: string[];
}
interface Member {
  userid: string;
  name: string;
  department: number[];
  is_leader_in_dept: number[];
  direct_leader: string[];
}

/** Every (userid, department) row of user/list_id, following the cursor to the end. */
async function listIds(wecom: EmulatorHarness): Promise<{ userid: string; department: number }[]> {
  const rows: { userid: string; department: number }[] = [];
  let cursor: string | undefined;
  do {
    const res = await wecom.asContact('user/list_id', { body: { limit: 150, ...(cursor ? { cursor } : {}) } });
    expect(res.json.errcode).toBe(0);
    rows.push(...res.json.dept_user);
    cursor = res.json.next_cursor || undefined;
  } while (cursor);
  return rows;
}

const departmentList = async (wecom: EmulatorHarness) => (await wecom.asContact('department/list')).json.department as Dept[];

/**
 * Emulators that are only read, one per file each: `a` and `b` of one seed and `other` of another
 * (determinism), and `wecom`, the demo organisation, with its departments and members read once.
 */
const it = test
  .extend('a', { scope: 'file' }, emulatorFixture({ seed: 7 }))
  .extend('b', { scope: 'file' }, emulatorFixture({ seed: 7 }))
  .extend('other', { scope: 'file' }, emulatorFixture({ seed: 8 }))
  .extend('wecom', { scope: 'file' }, emulatorFixture())
  .extend('depts', { scope: 'file' }, ({ wecom }) => departmentList(wecom))
  .extend('members', { scope: 'file' }, async ({ wecom, depts }) => {
    const members = new Map<string, Member>();
    for (const d of depts) {
      const res = await wecom.asContact('user/list', { query: { department_id: d.id } });
      expect(res.json.errcode).toBe(0);
      for (const u of res.json.userlist as Member[]) members.set(u.userid, u);
    }
    return members;
  });

describe('determinism', () => {
  it('serves identical department/list, user/list_id and tag/list answers for the same seed', async ({ a, b }) => {
    expect(a.creds.corpId).toBe(b.creds.corpId);
    expect(await departmentList(a)).toEqual(await departmentList(b));
    const rows = await listIds(a);
    expect(rows.length).toBeGreaterThan(400);
    expect(await listIds(b)).toEqual(rows);
    expect((await a.asContact('tag/get', { query: { tagid: 1 } })).json).toEqual(
      (await b.asContact('tag/get', { query: { tagid: 1 } })).json,
    );
  });

  it('differs for another seed', async ({ a, other }) => {
    expect(other.creds.corpId).not.toBe(a.creds.corpId);
    expect(await departmentList(other)).not.toEqual(await departmentList(a));
    expect(await listIds(other)).not.toEqual(await listIds(a));
  });
});

describe('the demo organisation', () => {
  it('has about 40 departments, 400 members and 10 tags', async ({ wecom, depts, members }) => {
    expect(depts.length).toBeGreaterThanOrEqual(35);
    expect(depts.length).toBeLessThanOrEqual(45);
    expect(members.size).toBeGreaterThanOrEqual(360);
    expect(members.size).toBeLessThanOrEqual(440);
    expect(new Set((await listIds(wecom)).map((r) => r.userid)).size).toBe(members.size);
    expect((await wecom.asContact('tag/list')).json.taglist).toHaveLength(10);
  });

  it('is at least four levels deep', ({ depts }) => {
    const byId = new Map(depts.map((d) => [d.id, d]));
    const depth = (d: Dept | undefined): number => (d ? 1 + depth(byId.get(d.parentid)) : 0);
    expect(Math.max(...depts.map(depth))).toBeGreaterThanOrEqual(4);
  });

  it('has members in several departments', ({ members }) => {
    const multi = [...members.values()].filter((u) => u.department.length > 1);
    expect(multi.length).toBeGreaterThan(5);
  });

  it('records department heads on both sides', ({ depts, members }) => {
    const byId = new Map(depts.map((d) => [d.id, d]));
    const fromDepts = depts.flatMap((d) => d.department_leader.map((userid) => `${d.id}/${userid}`)).sort();
    const fromMembers = [...members.values()]
      .flatMap((u) => u.department.filter((_, i) => u.is_leader_in_dept[i] === 1).map((d) => `${d}/${u.userid}`))
      .sort();
    expect(fromDepts.length).toBeGreaterThan(10);
    expect(fromMembers).toEqual(fromDepts);
    for (const key of fromDepts) expect(byId.has(Number(key.split('/')[0]))).toBe(true);
  });

  it('gives members direct leaders who are members themselves', ({ members }) => {
    const withLeader = [...members.values()].filter((u) => u.direct_leader.length > 0);
    expect(withLeader.length).toBeGreaterThan(members.size / 2);
    for (const u of withLeader) {
      for (const leader of u.direct_leader) {
        expect(members.has(leader)).toBe(true);
        expect(leader).not.toBe(u.userid);
      }
    }
  });

  it('has Chinese and English names', ({ members }) => {
    const names = [...members.values()].map((u) => u.name);
    expect(names.filter((n) => /^\p{Script=Han}+$/u.test(n)).length).toBeGreaterThan(100);
    expect(names.filter((n) => /^[A-Za-z]+ [A-Za-z]+$/.test(n)).length).toBeGreaterThan(10);
  });
});

describe('the large organisation', () => {
  it('has at least 50,000 members in 2,000 departments, generated in a few seconds', () => {
    const start = performance.now();
    const { store } = seedCorp(1, 'large');
    const ms = performance.now() - start;
    expect(store.users.size).toBeGreaterThanOrEqual(50_000);
    expect(store.departments.size).toBeGreaterThanOrEqual(2_000);
    // A sanity bound, not a benchmark: generation takes about a second here, far more only if
    // something went quadratic; the bound is wide because these machines are shared.
    expect(ms).toBeLessThan(15_000);
    const userids = new Set([...store.users.values()].map((u) => userKey(u.userid)));
    expect(userids.size).toBe(store.users.size);
  });
});

describe('the huge organisation', () => {
  it('has 200,000 members in at least 8,000 departments, each userid once', () => {
    const start = performance.now();
    const { store } = seedCorp(1, 'huge');
    const ms = performance.now() - start;
    expect(store.users.size).toBe(200_000);
    expect(store.departments.size).toBeGreaterThanOrEqual(8_000);
    // Four times the large seed; the bound only catches something gone quadratic on a shared machine.
    expect(ms).toBeLessThan(60_000);
    const userids = new Set([...store.users.values()].map((u) => u.userid.toLowerCase()));
    expect(userids.size).toBe(store.users.size);
  });
});
