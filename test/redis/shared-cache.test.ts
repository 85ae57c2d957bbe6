import { expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import { ServiceProcess, metricValue } from '../helpers/service-process.ts';
import { describeWithRedis } from '../helpers/redis.ts';
import { ORG_TREE, fleetEnvironment, levelThree } from '../helpers/fleet.ts';
import { FLEET_START_MS, fleetTest } from '../testkit/fleet.ts';

/**
 * The directory cache the fleet shares through Redis: three instances asked the same cold org
 * tree at once cost WeCom what one instance costs, an instance joining a warm fleet answers from
 * what the others loaded, and a change made through one instance retires exactly the shared
 * entries it touches, which the fleet then reloads once.
 */

const it = fleetTest({ size: 3 })
  // The level-3 departments of the seed, whose member lists the org tree reads.
  .extend('level3', { scope: 'file' }, async ({ wecom }) => levelThree(wecom))
  // An instance joining the fleet: started by the first test that asks for it, when the fleet is warm.
  .extend('joiner', { scope: 'file' }, async ({ wecom, redisUrl, prefix }, { onCleanup }) => {
    const joiner = await ServiceProcess.start(fleetEnvironment(wecom, redisUrl, prefix));
    onCleanup(() => joiner.stop());
    return joiner;
  });

const MEMBER_CARD = graphql(`query FleetMemberCard($u: String!) { user(userid: $u) { userid name } }`);
const RENAME = graphql(
  `mutation FleetRename($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on MutationUpdateUserSuccess { data { name } } } }`,
);

describeWithRedis('the fleet’s shared directory cache', () => {
  it.beforeAll(async ({ fleet: _started, level3: _read }) => {}, FLEET_START_MS);

  it('three cold instances asked the org tree at once make one instance’s calls: one gettoken, one department/list, one user/list per level-3 department', async ({
    fleet,
    wecom,
    level3,
  }) => {
    expect(level3.length).toBeGreaterThan(5);
    await wecom.resetStats();
    const answers = await Promise.all(fleet.map((s) => s.execute(ORG_TREE, { root: 1 })));
    for (const a of answers) expect(a.errors).toBeUndefined();
    expect(answers[1]!.data).toEqual(answers[0]!.data);
    expect(answers[2]!.data).toEqual(answers[0]!.data);
    const stats = await wecom.stats();
    expect(stats.calls).toEqual({ '/cgi-bin/gettoken': 1, '/cgi-bin/department/list': 1, '/cgi-bin/user/list': level3.length });

    // Two of the three waited for the third's loads rather than calling WeCom.
    const metrics = await Promise.all(fleet.map((s) => s.metrics()));
    const sum = (result: string) => metrics.reduce((n, m) => n + metricValue(m, 'directory_shared_cache_requests_total', { result }), 0);
    expect(sum('loaded')).toBe(1 + level3.length);
    expect(sum('hit') + sum('waited')).toBe(2 * (1 + level3.length));
    expect(sum('degraded')).toBe(0);
  });

  it('search on every instance reads each remaining member list once for the fleet', async ({ fleet, wecom, level3 }) => {
    const all = ((await wecom.console('department/list')).json.department as { id: number }[]).map((d) => d.id);
    const search = graphql(`query FleetSearch { searchUsers(query: "a", first: 5) { totalCount nodes { userid } } }`);
    await wecom.resetStats();
    const answers = await Promise.all(fleet.map((s) => s.execute(search)));
    for (const a of answers) expect(a.errors).toBeUndefined();
    expect(new Set(answers.map((a) => JSON.stringify(a.data))).size).toBe(1);
    // Everyone is read from every department's list; the level-3 lists are shared already.
    expect((await wecom.stats()).calls).toEqual({ '/cgi-bin/user/list': all.length - level3.length });
  });

  it('an instance joining the warm fleet answers its first org tree and a member card with no upstream call', async ({
    fleet,
    wecom,
    level3,
    joiner,
  }) => {
    const member = (
      (await wecom.console('user/list', { department_id: level3[0] })).json.userlist as { userid: string; name: string }[]
    )[0]!;
    await wecom.resetStats();
    const tree = await joiner.execute(ORG_TREE, { root: 1 });
    expect(tree.errors).toBeUndefined();
    expect(tree.data).toEqual((await fleet[0]!.execute(ORG_TREE, { root: 1 })).data);
    // A single member: found in the member lists the fleet holds (no user/get).
    const card = await joiner.execute(MEMBER_CARD, { u: member.userid });
    expect(card.data).toEqual({ user: { userid: member.userid, name: member.name } });
    expect((await wecom.stats()).total).toBe(0);
  }, 60_000);

  it('a change made through one instance reaches every instance, and the fleet reloads only the lists it touched, once', async ({
    fleet,
    wecom,
    level3,
    joiner,
  }) => {
    // A member of one level-3 department only, so exactly one list holds them.
    let target: { userid: string; department: number[] } | undefined;
    for (const d of level3) {
      const users = (await wecom.console('user/list', { department_id: d })).json.userlist as { userid: string; department: number[] }[];
      target = users.find((u) => u.department.length === 1);
      if (target) break;
    }
    expect(target).toBeDefined();
    const renamed = `改名-${Date.now() % 100000}`;
    const mutation = await fleet[0]!.execute(RENAME, { input: { userid: target!.userid, name: renamed } });
    expect(mutation.data!.updateUser).toEqual({ __typename: 'MutationUpdateUserSuccess', data: { name: renamed } });
    await new Promise((r) => setTimeout(r, 300)); // the broadcast reaches the others

    await wecom.resetStats();
    const others = [fleet[1]!, fleet[2]!, joiner];
    const answers = await Promise.all(others.map((s) => s.execute(ORG_TREE, { root: 1 })));
    for (const a of answers) {
      expect(a.errors).toBeUndefined();
      expect(JSON.stringify(a.data)).toContain(renamed);
    }
    // The renamed member's one list, read once for the fleet; the tree (names of departments) kept.
    expect((await wecom.stats()).calls).toEqual({ '/cgi-bin/user/list': 1 });
  });

  it('holds member lists compactly: bytes per member in Redis', async ({ wecom, redis, prefix }) => {
    let bytes = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}dir:*:e:members:*`, 'COUNT', 500);
      for (const key of keys) bytes += (await redis.memory('USAGE', key)) ?? 0;
      cursor = next;
    } while (cursor !== '0');
    const members = (await wecom.console('user/list_id', { limit: 10000 })).json.dept_user as { userid: string }[];
    const perMembership = bytes / members.length;
    console.log(`shared member lists: ${bytes} bytes for ${members.length} memberships (${perMembership.toFixed(0)} bytes each)`);
    expect(perMembership).toBeGreaterThan(0);
    // A member list's JSON is ~835 bytes a member on this seed; deflated it must stay well under a third of that.
    expect(perMembership).toBeLessThan(250);
  });
});
