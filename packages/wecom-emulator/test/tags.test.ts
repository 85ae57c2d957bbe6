import { userKey } from 'wecom-protocol/userid';
import { describe, expect } from 'vitest';
import type { EmulatorHarness } from '../src/testing.ts';
import { emulatorTest, largeCorpTest } from './fixtures.ts';
import { DIRECTORY_APP_AGENT_ID, SALES_APP_AGENT_ID } from '../src/seed.ts';
import {
  DUPLICATE_TAGID_ERRCODE,
  TAG_ADD_TOO_MANY_ERRCODE,
  TAG_COUNT_LIMIT_ERRCODE,
  TAG_DEL_TOO_MANY_ERRCODE,
} from '../src/routes/tags.ts';

const it = emulatorTest();
const itLarge = largeCorpTest();

interface TagState {
  tagname: string;
  userlist: { userid: string; name: string }[];
  partylist: number[];
}

/** Every tag with its members, read through the admin console (which sees everything). */
async function allTags(wecom: EmulatorHarness): Promise<Record<number, TagState>> {
  const list = (await wecom.console('tag/list')).json.taglist as { tagid: number; tagname: string }[];
  const out: Record<number, TagState> = {};
  for (const { tagid } of list) {
    const { errcode: _e, errmsg: _m, ...state } = (await wecom.console('tag/get', { tagid })).json;
    out[tagid] = state as TagState;
  }
  return out;
}

const tagOf = async (wecom: EmulatorHarness, tagid: number) => (await allTags(wecom))[tagid];
const store = (wecom: EmulatorHarness) => wecom.emulator.store;
/** Seeded members that are not in the tag, in a stable order. */
const nonMembers = (wecom: EmulatorHarness, tagid: number, n: number) =>
  [...store(wecom).users.values()].filter((u) => !store(wecom).tags.get(tagid)!.users.has(userKey(u.userid))).slice(0, n);
const SALES_ROOT = 23;

/** What the sales app sees, computed from its seeded visibility (departments, users, tags). */
function salesVisibleUsers(wecom: EmulatorHarness): Set<string> {
  const s = store(wecom);
  const app = s.app(SALES_APP_AGENT_ID)!;
  const seen = new Set<string>(app.visibility.users.map(userKey));
  const depts = app.visibility.departments.flatMap((d) => s.subtree(d).map((x) => x.id));
  for (const tagid of app.visibility.tags) {
    const tag = s.tags.get(tagid)!;
    for (const u of tag.users) seen.add(u);
    for (const p of tag.parties) depts.push(...s.subtree(p).map((x) => x.id));
  }
  for (const d of depts) for (const u of s.membersOf(d)) seen.add(userKey(u.userid));
  return seen;
}

describe('tag/create', () => {
  it('creates with the next id after the largest, empty, owned by the caller', async ({ wecom }) => {
    const res = await wecom.asContact('tag/create', { body: { tagname: '新标签' } });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'created', tagid: 11 });
    expect(await tagOf(wecom, 11)).toEqual({ tagname: '新标签', userlist: [], partylist: [] });
    // owned by the contacts-sync side: it may rename it, an app may not
    expect((await wecom.asContact('tag/update', { body: { tagid: 11, tagname: 'renamed' } })).json.errcode).toBe(0);
    expect((await wecom.asApp('tag/update', { body: { tagid: 11, tagname: 'x' } })).json.errcode).toBe(81011);
  });

  it('keeps an explicit tagid (0 included) and continues after the largest', async ({ wecom }) => {
    expect((await wecom.asContact('tag/create', { body: { tagname: 'A', tagid: 500 } })).json).toEqual({
      errcode: 0,
      errmsg: 'created',
      tagid: 500,
    });
    expect((await wecom.asContact('tag/create', { body: { tagname: 'B' } })).json.tagid).toBe(501);
    expect((await wecom.asContact('tag/create', { body: { tagname: 'C', tagid: 0 } })).json.tagid).toBe(0);
    const list = (await wecom.asContact('tag/list')).json.taglist;
    expect(list.slice(0, 1)).toEqual([{ tagid: 0, tagname: 'C' }]);
    expect(list.slice(-2)).toEqual([
      { tagid: 500, tagname: 'A' },
      { tagid: 501, tagname: 'B' },
    ]);
  });

  it('accepts a 32-character Chinese name', async ({ wecom }) => {
    const name = '标'.repeat(32);
    const res = await wecom.asContact('tag/create', { body: { tagname: name } });
    expect(res.json.errcode).toBe(0);
    expect((await tagOf(wecom, res.json.tagid))!.tagname).toBe(name);
  });

  it.for([
    [{}, 41018],
    [{ tagname: '' }, 40072],
    [{ tagname: '   ' }, 40072],
    [{ tagname: 'x'.repeat(33) }, 40072],
    [{ tagname: 7 }, 40072],
    [{ tagname: '新员工' }, 40071],
    [{ tagname: 'ok', tagid: -1 }, 40068],
    [{ tagname: 'ok', tagid: 'x' }, 40068],
    [{ tagname: 'ok', tagid: 1.5 }, 40068],
    [{ tagname: 'ok', tagid: 3 }, DUPLICATE_TAGID_ERRCODE],
  ])('refuses %j with %i and changes nothing', async ([body, errcode], { wecom }) => {
    const before = await allTags(wecom);
    const res = await wecom.asContact('tag/create', { body });
    expect(res.status).toBe(200);
    expect(res.json.errcode).toBe(errcode);
    expect(await allTags(wecom)).toEqual(before);
  });

  it('makes the creating app the owner', async ({ wecom }) => {
    const res = await wecom.asApp('tag/create', { body: { tagname: 'app tag' } }, DIRECTORY_APP_AGENT_ID);
    expect(res.json).toEqual({ errcode: 0, errmsg: 'created', tagid: 11 });
    expect((await wecom.asApp('tag/update', { body: { tagid: 11, tagname: 'mine' } }, DIRECTORY_APP_AGENT_ID)).json.errcode).toBe(0);
    expect((await wecom.asApp('tag/update', { body: { tagid: 11, tagname: 'theirs' } }, SALES_APP_AGENT_ID)).json.errcode).toBe(81011);
    expect((await wecom.asContact('tag/update', { body: { tagid: 11, tagname: 'theirs' } })).json.errcode).toBe(81011);
    expect((await tagOf(wecom, 11))!.tagname).toBe('mine');
  });

  it(`refuses the 3001st tag of a corp (${TAG_COUNT_LIMIT_ERRCODE})`, async ({ wecom }) => {
    const existing = Object.keys(await allTags(wecom)).length;
    const names = Array.from({ length: 3000 - existing }, (_, i) => `bulk-${i}`);
    for (let i = 0; i < names.length; i += 100) {
      const chunk = names.slice(i, i + 100);
      const results = await Promise.all(chunk.map((tagname) => wecom.console('tag/create', { tagname })));
      expect(results.every((r) => r.json.errcode === 0)).toBe(true);
    }
    const before = (await wecom.asContact('tag/list')).json.taglist;
    expect(before).toHaveLength(3000);
    const res = await wecom.asContact('tag/create', { body: { tagname: 'one too many' } });
    expect(res.json.errcode).toBe(TAG_COUNT_LIMIT_ERRCODE);
    expect((await wecom.asContact('tag/list')).json.taglist).toEqual(before);
  });
});

describe('tag/update', () => {
  it('renames a tag the caller owns, and accepts its own current name', async ({ wecom }) => {
    expect((await wecom.asContact('tag/update', { body: { tagid: 1, tagname: 'Tech Council' } })).json).toEqual({
      errcode: 0,
      errmsg: 'updated',
    });
    expect((await wecom.asContact('tag/update', { body: { tagid: 1, tagname: 'Tech Council' } })).json.errcode).toBe(0);
    expect((await tagOf(wecom, 1))!.tagname).toBe('Tech Council');
    expect((await wecom.asApp('tag/update', { body: { tagid: 10, tagname: 'VIP' } }, SALES_APP_AGENT_ID)).json.errcode).toBe(0);
    expect((await tagOf(wecom, 10))!.tagname).toBe('VIP');
  });

  it.for([
    ['contact on the sales app tag', 81011, 'contact', { tagid: 10, tagname: 'x' }],
    ['directory app on a contacts tag', 81011, DIRECTORY_APP_AGENT_ID, { tagid: 1, tagname: 'x' }],
    ['sales app on a contacts tag', 81011, SALES_APP_AGENT_ID, { tagid: 1, tagname: 'x' }],
    ['an unknown tagid', 40068, 'contact', { tagid: 4040, tagname: 'x' }],
    ['a missing tagid', 41017, 'contact', { tagname: 'x' }],
    ['a name in use', 40071, 'contact', { tagid: 1, tagname: '新员工' }],
    ['an empty name', 40072, 'contact', { tagid: 1, tagname: '' }],
    ['a missing name', 41018, 'contact', { tagid: 1 }],
  ] as const)('refuses %s (%i) and changes nothing', async ([_label, errcode, who, body], { wecom }) => {
    const before = await allTags(wecom);
    const res = who === 'contact' ? await wecom.asContact('tag/update', { body }) : await wecom.asApp('tag/update', { body }, who);
    expect(res.json.errcode).toBe(errcode);
    expect(await allTags(wecom)).toEqual(before);
  });

  it('lets the console (super admin) rename any tag, and contacts sync operate console tags', async ({ wecom }) => {
    expect((await wecom.console('tag/update', { tagid: 10, tagname: 'by admin' })).json.errcode).toBe(0);
    expect((await tagOf(wecom, 10))!.tagname).toBe('by admin');
    const created = await wecom.console('tag/create', { tagname: 'admin tag' });
    expect((await wecom.asContact('tag/update', { body: { tagid: created.json.tagid, tagname: 'synced' } })).json.errcode).toBe(0);
    expect((await wecom.asApp('tag/update', { body: { tagid: created.json.tagid, tagname: 'app' } })).json.errcode).toBe(81011);
  });
});

describe('tag/delete', () => {
  it('deletes a tag the caller owns, members and all', async ({ wecom }) => {
    expect((await wecom.asContact('tag/delete', { query: { tagid: 1 } })).json).toEqual({ errcode: 0, errmsg: 'deleted' });
    expect((await wecom.asContact('tag/get', { query: { tagid: 1 } })).json.errcode).toBe(40068);
    expect(Object.keys(await allTags(wecom)).map(Number)).not.toContain(1);
    expect((await wecom.asApp('tag/delete', { query: { tagid: 10 } }, SALES_APP_AGENT_ID)).json.errcode).toBe(0);
    expect(Object.keys(await allTags(wecom)).map(Number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('takes away the visibility an app had through the deleted tag', async ({ wecom }) => {
    const salesUser = userKey(store(wecom).app(SALES_APP_AGENT_ID)!.visibility.users[0]!);
    const onlyViaTag = [...store(wecom).tags.get(10)!.users].find(
      (k) =>
        k !== salesUser &&
        !store(wecom)
          .users.get(k)!
          .department.some((d) => store(wecom).isSelfOrAncestor(SALES_ROOT, d)),
    )!;
    expect(onlyViaTag).toBeDefined();
    const own = (await wecom.asApp('tag/create', { body: { tagname: 'sales own' } }, SALES_APP_AGENT_ID)).json.tagid as number;
    const add = () => wecom.asApp('tag/addtagusers', { body: { tagid: own, userlist: [onlyViaTag] } }, SALES_APP_AGENT_ID);
    expect((await add()).json).toEqual({ errcode: 0, errmsg: 'ok' });
    await wecom.asApp('tag/deltagusers', { body: { tagid: own, userlist: [onlyViaTag] } }, SALES_APP_AGENT_ID);
    expect((await wecom.asApp('tag/delete', { query: { tagid: 10 } }, SALES_APP_AGENT_ID)).json.errcode).toBe(0);
    expect((await add()).json.errcode).toBe(40070);
  });

  it.for([
    ['an unknown tagid', 40068, 'contact', { tagid: 4040 }],
    ['a malformed tagid', 40068, 'contact', { tagid: 'x' }],
    ['a missing tagid', 41017, 'contact', {}],
    ['contact on the sales app tag', 81011, 'contact', { tagid: 10 }],
    ['directory app on a contacts tag', 81011, DIRECTORY_APP_AGENT_ID, { tagid: 1 }],
  ] as const)('refuses %s (%i) and changes nothing', async ([_label, errcode, who, query], { wecom }) => {
    const before = await allTags(wecom);
    const res = who === 'contact' ? await wecom.asContact('tag/delete', { query }) : await wecom.asApp('tag/delete', { query }, who);
    expect(res.json.errcode).toBe(errcode);
    expect(await allTags(wecom)).toEqual(before);
  });
});

describe('tag/get', () => {
  it('answers the name, members with names, and departments', async ({ wecom }) => {
    const tag = store(wecom).tags.get(3)!;
    const res = await wecom.asContact('tag/get', { query: { tagid: 3 } });
    expect(res.json).toEqual({
      errcode: 0,
      errmsg: 'ok',
      tagname: 'Remote',
      userlist: [...tag.users].map((k) => ({ userid: store(wecom).users.get(k)!.userid, name: store(wecom).users.get(k)!.name })),
      partylist: [...tag.parties],
    });
    expect(res.json.userlist.length).toBeGreaterThan(0);
    expect(res.json.partylist.length).toBeGreaterThan(0);
  });

  it('lets any app read any tag, leaving out members outside its visibility', async ({ wecom }) => {
    const visible = salesVisibleUsers(wecom);
    // find a contacts tag with members both inside and outside the sales app's range
    const tagid = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((id) => {
      const keys = [...store(wecom).tags.get(id)!.users];
      return keys.some((k) => visible.has(k)) && keys.some((k) => !visible.has(k));
    })!;
    expect(tagid).toBeDefined();
    const full = (await wecom.asContact('tag/get', { query: { tagid } })).json.userlist as { userid: string }[];
    const seen = (await wecom.asApp('tag/get', { query: { tagid } }, SALES_APP_AGENT_ID)).json;
    expect(seen.errcode).toBe(0);
    expect(seen.userlist).toEqual(full.filter((u) => visible.has(userKey(u.userid))));
    expect(seen.userlist.length).toBeLessThan(full.length);
    // the directory app sees the whole corp
    expect((await wecom.asApp('tag/get', { query: { tagid } }, DIRECTORY_APP_AGENT_ID)).json.userlist).toEqual(full);
  });

  it('leaves out departments outside the app visibility', async ({ wecom }) => {
    expect((await wecom.asContact('tag/addtagusers', { body: { tagid: 1, partylist: [2, 24] } })).json.errcode).toBe(0);
    expect((await wecom.asContact('tag/get', { query: { tagid: 1 } })).json.partylist).toEqual([2, 24]);
    expect((await wecom.asApp('tag/get', { query: { tagid: 1 } }, SALES_APP_AGENT_ID)).json.partylist).toEqual([24]);
  });

  it('answers 40068 for an unknown or malformed tagid and 41017 without one', async ({ wecom }) => {
    expect((await wecom.asContact('tag/get', { query: { tagid: 4040 } })).json.errcode).toBe(40068);
    expect((await wecom.asContact('tag/get', { query: { tagid: 'abc' } })).json.errcode).toBe(40068);
    expect((await wecom.asContact('tag/get')).json.errcode).toBe(41017);
  });
});

describe('tag/list', () => {
  it('shows every tag, sorted by id, to the contacts-sync secret and to both apps', async ({ wecom }) => {
    const expected = [...store(wecom).tags.values()].map((t) => ({ tagid: t.tagid, tagname: t.tagname })).sort((a, b) => a.tagid - b.tagid);
    expect(expected).toHaveLength(10);
    expect((await wecom.asContact('tag/list')).json).toEqual({ errcode: 0, errmsg: 'ok', taglist: expected });
    expect((await wecom.asApp('tag/list', {}, DIRECTORY_APP_AGENT_ID)).json.taglist).toEqual(expected);
    expect((await wecom.asApp('tag/list', {}, SALES_APP_AGENT_ID)).json.taglist).toEqual(expected);
  });
});

describe('tag/addtagusers', () => {
  it('adds users (userids case-insensitive) and departments; already-present members are kept once', async ({ wecom }) => {
    const [a, b] = nonMembers(wecom, 1, 2);
    const res = await wecom.asContact('tag/addtagusers', {
      body: { tagid: 1, userlist: [a!.userid.toUpperCase(), b!.userid, b!.userid], partylist: [5] },
    });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok' });
    const after = (await tagOf(wecom, 1))!;
    expect(after.userlist.slice(-2)).toEqual([
      { userid: a!.userid, name: a!.name },
      { userid: b!.userid, name: b!.name },
    ]);
    expect(after.partylist).toEqual([5]);
    const again = await wecom.asContact('tag/addtagusers', { body: { tagid: 1, userlist: [a!.userid], partylist: [5] } });
    expect(again.json).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(await tagOf(wecom, 1)).toEqual(after);
  });

  it('reports the invalid part as a |-joined string and an int array, adding the rest', async ({ wecom }) => {
    const [a] = nonMembers(wecom, 1, 1);
    const before = (await tagOf(wecom, 1))!;
    const res = await wecom.asContact('tag/addtagusers', {
      body: { tagid: 1, userlist: ['ghost1', a!.userid, 'bad id!'], partylist: [9999, 6, 8888] },
    });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', invalidlist: 'ghost1|bad id!', invalidparty: [9999, 8888] });
    expect(await tagOf(wecom, 1)).toEqual({
      ...before,
      userlist: [...before.userlist, { userid: a!.userid, name: a!.name }],
      partylist: [6],
    });
    // only the invalid kind that occurred is present
    const onlyParty = await wecom.asContact('tag/addtagusers', { body: { tagid: 1, userlist: [a!.userid], partylist: [7777] } });
    expect(onlyParty.json).toEqual({ errcode: 0, errmsg: 'ok', invalidparty: [7777] });
  });

  it('limits an app to members and departments in its visibility', async ({ wecom }) => {
    const visible = salesVisibleUsers(wecom);
    const inside = [...store(wecom).users.values()].find(
      (u) => visible.has(userKey(u.userid)) && !store(wecom).tags.get(10)!.users.has(userKey(u.userid)),
    )!;
    const outside = [...store(wecom).users.values()].find((u) => !visible.has(userKey(u.userid)))!;
    const res = await wecom.asApp(
      'tag/addtagusers',
      { body: { tagid: 10, userlist: [inside.userid, outside.userid], partylist: [SALES_ROOT, 2] } },
      SALES_APP_AGENT_ID,
    );
    expect(res.json).toEqual({ errcode: 0, errmsg: 'ok', invalidlist: outside.userid, invalidparty: [2] });
    const tag = (await tagOf(wecom, 10))!;
    expect(tag.userlist.map((u) => u.userid)).toContain(inside.userid);
    expect(tag.userlist.map((u) => u.userid)).not.toContain(outside.userid);
    expect(tag.partylist).toContain(SALES_ROOT);
    expect(tag.partylist).not.toContain(2);
  });

  it.for([
    ['all members invalid', 40070, 'contact', { tagid: 1, userlist: ['ghost'], partylist: [9999] }],
    ['both lists empty', 40035, 'contact', { tagid: 1, userlist: [], partylist: [] }],
    ['both lists absent', 40035, 'contact', { tagid: 1 }],
    ['a string instead of an array', 40035, 'contact', { tagid: 1, userlist: 'a|b' }],
    ['a department id that is not an integer', 40035, 'contact', { tagid: 1, partylist: ['2'] }],
    ['1001 users', TAG_ADD_TOO_MANY_ERRCODE, 'contact', { tagid: 1, userlist: Array.from({ length: 1001 }, (_, i) => `u${i}`) }],
    ['101 departments', TAG_ADD_TOO_MANY_ERRCODE, 'contact', { tagid: 1, partylist: Array.from({ length: 101 }, (_, i) => i + 2) }],
    ['an unknown tag', 40068, 'contact', { tagid: 4040, partylist: [2] }],
    ['a missing tagid', 41017, 'contact', { partylist: [2] }],
    ['contact on the sales app tag', 81011, 'contact', { tagid: 10, partylist: [2] }],
    ['directory app on a contacts tag', 81011, DIRECTORY_APP_AGENT_ID, { tagid: 1, partylist: [2] }],
    ['sales app adding only members outside its range', 40070, SALES_APP_AGENT_ID, { tagid: 10, partylist: [2] }],
  ] as const)('refuses %s (%i) and changes nothing', async ([_label, errcode, who, body], { wecom }) => {
    const before = await allTags(wecom);
    const res =
      who === 'contact' ? await wecom.asContact('tag/addtagusers', { body }) : await wecom.asApp('tag/addtagusers', { body }, who);
    expect(res.json.errcode).toBe(errcode);
    expect(await allTags(wecom)).toEqual(before);
  });

  it('lets the console add members to any tag', async ({ wecom }) => {
    expect((await wecom.console('tag/addtagusers', { tagid: 10, partylist: [2] })).json).toEqual({ errcode: 0, errmsg: 'ok' });
    expect((await tagOf(wecom, 10))!.partylist).toContain(2);
  });

  it('widens the visibility an app gets from a tag as soon as members join it', async ({ wecom }) => {
    const outsider = [...store(wecom).users.values()].find((u) => !salesVisibleUsers(wecom).has(userKey(u.userid)))!;
    const seesOutsider = async () =>
      ((await wecom.asApp('tag/get', { query: { tagid: 10 } }, SALES_APP_AGENT_ID)).json.userlist as { userid: string }[]).some(
        (u) => u.userid === outsider.userid,
      );
    expect(await seesOutsider()).toBe(false);
    expect((await wecom.console('tag/addtagusers', { tagid: 10, userlist: [outsider.userid] })).json.errcode).toBe(0);
    expect(await seesOutsider()).toBe(true);
  });
});

describe('tag/deltagusers', () => {
  it('removes users and departments and answers "deleted"', async ({ wecom }) => {
    const tag = store(wecom).tags.get(3)!;
    const [first, second] = [...tag.users].map((k) => store(wecom).users.get(k)!);
    const party = [...tag.parties][0]!;
    const before = (await tagOf(wecom, 3))!;
    const res = await wecom.asContact('tag/deltagusers', {
      body: { tagid: 3, userlist: [first!.userid, second!.userid.toUpperCase()], partylist: [party] },
    });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'deleted' });
    expect(await tagOf(wecom, 3)).toEqual({
      ...before,
      userlist: before.userlist.filter((u) => u.userid !== first!.userid && u.userid !== second!.userid),
      partylist: before.partylist.filter((p) => p !== party),
    });
  });

  it('reports the invalid part, removes the rest, and treats valid non-members as a no-op', async ({ wecom }) => {
    const member = store(wecom).users.get([...store(wecom).tags.get(1)!.users][0]!)!;
    const [notMember] = nonMembers(wecom, 1, 1);
    const before = (await tagOf(wecom, 1))!;
    const res = await wecom.asContact('tag/deltagusers', {
      body: { tagid: 1, userlist: [member.userid, 'ghost', notMember!.userid], partylist: [9999] },
    });
    expect(res.json).toEqual({ errcode: 0, errmsg: 'deleted', invalidlist: 'ghost', invalidparty: [9999] });
    expect((await tagOf(wecom, 1))!.userlist).toEqual(before.userlist.filter((u) => u.userid !== member.userid));
  });

  it.for([
    ['all members invalid', 40031, 'contact', { tagid: 1, userlist: ['ghost', 'ghost2'], partylist: [9999] }],
    ['both lists empty', 40035, 'contact', { tagid: 1, userlist: [], partylist: [] }],
    ['a string instead of an array', 40035, 'contact', { tagid: 1, partylist: 3 }],
    ['1001 users', TAG_DEL_TOO_MANY_ERRCODE, 'contact', { tagid: 1, userlist: Array.from({ length: 1001 }, (_, i) => `u${i}`) }],
    ['101 departments', TAG_DEL_TOO_MANY_ERRCODE, 'contact', { tagid: 1, partylist: Array.from({ length: 101 }, (_, i) => i + 2) }],
    ['an unknown tag', 40068, 'contact', { tagid: 4040, partylist: [2] }],
    ['contact on the sales app tag', 81011, 'contact', { tagid: 10, partylist: [21] }],
    ['sales app on a contacts tag', 81011, SALES_APP_AGENT_ID, { tagid: 3, partylist: [9] }],
  ] as const)('refuses %s (%i) and changes nothing', async ([_label, errcode, who, body], { wecom }) => {
    const before = await allTags(wecom);
    const res =
      who === 'contact' ? await wecom.asContact('tag/deltagusers', { body }) : await wecom.asApp('tag/deltagusers', { body }, who);
    expect(res.json.errcode).toBe(errcode);
    expect(await allTags(wecom)).toEqual(before);
  });
});

describe('update_tag change events', () => {
  it('fires for console membership changes with comma-separated items, fields absent when empty', async ({ wecom, events }) => {
    const [a, b] = nonMembers(wecom, 2, 2);
    await wecom.console('tag/addtagusers', { tagid: 2, userlist: [a!.userid, b!.userid], partylist: [5, 6] });
    await wecom.console('tag/deltagusers', { tagid: 2, userlist: [a!.userid] });
    await wecom.console('tag/deltagusers', { tagid: 2, partylist: [6] });
    expect(events).toEqual([
      [{ ChangeType: 'update_tag', TagId: 2, AddUserItems: `${a!.userid},${b!.userid}`, AddPartyItems: '5,6' }],
      [{ ChangeType: 'update_tag', TagId: 2, DelUserItems: a!.userid }],
      [{ ChangeType: 'update_tag', TagId: 2, DelPartyItems: '6' }],
    ]);
  });

  it('does not fire when nothing changed, nor for the contacts-sync token or apps', async ({ wecom, events }) => {
    const member = store(wecom).users.get([...store(wecom).tags.get(2)!.users][0]!)!;
    const [other] = nonMembers(wecom, 2, 1);
    expect((await wecom.console('tag/addtagusers', { tagid: 2, userlist: [member.userid] })).json.errcode).toBe(0);
    expect((await wecom.asContact('tag/addtagusers', { body: { tagid: 2, userlist: [other!.userid] } })).json.errcode).toBe(0);
    expect((await wecom.asContact('tag/deltagusers', { body: { tagid: 2, userlist: [other!.userid] } })).json.errcode).toBe(0);
    expect((await wecom.asApp('tag/addtagusers', { body: { tagid: 10, partylist: [SALES_ROOT] } }, SALES_APP_AGENT_ID)).json.errcode).toBe(
      0,
    );
    expect(events).toEqual([]);
  });
});

describe('tag node limit (large seed)', () => {
  itLarge('refuses to grow a tag beyond 30,000 users and departments (81003)', async ({ wecom: large }) => {
    const tagid = (await large.asContact('tag/create', { body: { tagname: 'everyone' } })).json.tagid as number;
    const userids = [...large.emulator.store.users.values()].map((u) => u.userid);
    // 29,999 users and one department: exactly at the limit
    for (let i = 0; i < 29_999; i += 1000) {
      const res = await large.asContact('tag/addtagusers', { body: { tagid, userlist: userids.slice(i, Math.min(i + 1000, 29_999)) } });
      expect(res.json.errcode).toBe(0);
    }
    expect((await large.asContact('tag/addtagusers', { body: { tagid, partylist: [2] } })).json.errcode).toBe(0);
    const full = (await large.asContact('tag/get', { query: { tagid } })).json;
    expect(full.userlist.length + full.partylist.length).toBe(30_000);
    // members already in the tag are no growth
    expect((await large.asContact('tag/addtagusers', { body: { tagid, userlist: userids.slice(0, 10) } })).json.errcode).toBe(0);

    const over = await large.asContact('tag/addtagusers', { body: { tagid, userlist: [userids[29_999]!], partylist: [] } });
    expect(over.json.errcode).toBe(81003);
    const overParty = await large.asContact('tag/addtagusers', { body: { tagid, partylist: [3] } });
    expect(overParty.json.errcode).toBe(81003);
    expect((await large.asContact('tag/get', { query: { tagid } })).json).toEqual(full);
  });
});
