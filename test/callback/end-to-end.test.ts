import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { SseSubscription } from '../helpers/sse.ts';

/**
 * The live directory end to end, over real sockets: a change in the emulator's admin console is
 * delivered (signed, encrypted) to the service's /wecom/callback, the cache drops what it touched,
 * the next query is fresh, and a client subscribed over SSE hears of it; the same for the
 * service's own mutations.
 */

let service: ServiceHarness;
let subscription: SseSubscription;

const SUBSCRIBE = 'subscription { contactChanged { kind source userid departmentId tagId changedFields cursor } }';
const TREE = '{ department(id: 1) { children { departmentId name members(first: 200) { nodes { userid name position } } } } }';

beforeAll(async () => {
  service = await ServiceHarness.start({ cache: { ttlMs: 300_000 }, callback: true, listen: true });
  const { callback } = service.wecom.creds;
  const configured = await service.wecom.admin('callback', 'POST', {
    url: `${service.url}/wecom/callback`,
    token: callback.token,
    encodingAESKey: callback.encodingAESKey,
  });
  expect(configured.status, configured.text).toBe(200);
  subscription = await SseSubscription.open((url, init) => fetch(url, init), `${service.url}/graphql`, SUBSCRIBE);
  expect(subscription.response.status).toBe(200);
});
afterAll(async () => {
  subscription.close();
  await service.close();
});
beforeEach(async () => {
  // warm
  expect((await service.query(TREE)).errors).toBeUndefined();
  await service.wecom.resetStats();
});

async function upstream(): Promise<Record<string, number>> {
  const { ['/cgi-bin/gettoken']: _token, ...calls } = await service.calls();
  return calls;
}

/** A member of a level-2 department who leads nothing (a rename then touches one list only). */
async function someMember(): Promise<{ userid: string; name: string; department: number }> {
  const tree: { id: number; parentid: number; department_leader: string[] }[] = (await service.wecom.console('department/list')).json
    .department;
  const leaders = new Set(tree.flatMap((d) => d.department_leader));
  for (const d of tree.filter((x) => x.parentid === 1)) {
    const list: { userid: string; name: string; department: number[] }[] = (
      await service.wecom.console('user/list', { department_id: d.id })
    ).json.userlist;
    const m = list.find((u) => u.department.length === 1 && !leaders.has(u.userid));
    if (m) return { userid: m.userid, name: m.name, department: d.id };
  }
  throw new Error('no member found');
}

describe('a change in the emulator console', () => {
  it('reaches the callback, makes the next query fresh, and reaches a subscriber within a second', async () => {
    const member = await someMember();
    const started = Date.now();
    expect(
      (await service.wecom.console('user/update', { userid: member.userid, name: '控制台改名', position: '架构师' })).json.errcode,
    ).toBe(0);

    const event = await subscription.next(1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(event!.data!.contactChanged).toMatchObject({
      kind: 'USER_UPDATED',
      source: 'CALLBACK',
      userid: member.userid,
      changedFields: ['name', 'position'],
    });

    const res = await service.query(TREE);
    const dept = res.data!.department.children.find((d: { departmentId: number }) => d.departmentId === member.department);
    const expected = (await service.wecom.console('user/list', { department_id: member.department })).json.userlist as {
      userid: string;
      name: string;
      position?: string;
    }[];
    expect(dept.members.nodes).toEqual(expected.map((u) => ({ userid: u.userid, name: u.name, position: u.position ?? null })));
    expect(dept.members.nodes.find((u: { userid: string }) => u.userid === member.userid)).toMatchObject({
      name: '控制台改名',
      position: '架构师',
    });
    // only that member's list was read again
    expect(await upstream()).toEqual({ '/cgi-bin/user/list': 1 });
  });

  it('shows a new department in the next tree query, and in the change feed', async () => {
    const before = (await service.query('{ directoryChanges(first: 1) { latestCursor } }')).data!.directoryChanges.latestCursor;
    const created = await service.wecom.console('department/create', { name: '直播部', parentid: 1 });
    const id = created.json.id as number;
    const event = await subscription.next(1_000);
    expect(event!.data!.contactChanged).toMatchObject({ kind: 'DEPARTMENT_CREATED', source: 'CALLBACK', departmentId: id });

    const res = await service.query('{ department(id: 1) { children { departmentId name } } }');
    expect(res.data!.department.children).toContainEqual({ departmentId: id, name: '直播部' });
    expect((await upstream())['/cgi-bin/department/list']).toBe(1);

    const feed = await service.query(
      `query($since: String) { directoryChanges(since: $since) { changes { kind departmentId source cursor } } }`,
      { since: before },
    );
    expect(feed.data!.directoryChanges.changes).toEqual([
      { kind: 'DEPARTMENT_CREATED', departmentId: id, source: 'CALLBACK', cursor: event!.data!.contactChanged.cursor },
    ]);
  });

  it('leaves an org-tree query repeated within the TTL at zero WeCom calls when nothing changed', async () => {
    await service.query(TREE);
    expect((await service.wecom.stats()).total).toBe(0);
  });
});

describe('the service’s own mutations', () => {
  it('invalidate exactly what they touched and reach subscribers', async () => {
    const member = await someMember();
    const res = await service.query(
      `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on MutationUpdateUserSuccess { data { userid name } } } }`,
      { input: { userid: member.userid, name: '改自接口' } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateUser).toEqual({ __typename: 'MutationUpdateUserSuccess', data: { userid: member.userid, name: '改自接口' } });

    const event = await subscription.next(1_000);
    expect(event!.data!.contactChanged).toMatchObject({ kind: 'USER_UPDATED', source: 'MUTATION', userid: member.userid });
    // The contacts-sync API's own change fires no callback (§9.6): nothing else arrives.
    await new Promise((r) => setTimeout(r, 200));
    expect(subscription.pending()).toBe(0);

    await service.wecom.resetStats();
    const after = await service.query(TREE);
    const dept = after.data!.department.children.find((d: { departmentId: number }) => d.departmentId === member.department);
    expect(dept.members.nodes.find((u: { userid: string }) => u.userid === member.userid).name).toBe('改自接口');
    expect(await upstream()).toEqual({ '/cgi-bin/user/list': 1 });
  });
});
