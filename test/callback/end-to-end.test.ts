import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { graphql } from '../generated/index.ts';
import { callbackTest, deliverCallbacks } from '../testkit/callback.ts';
import { executor } from '../testkit/execute.ts';

/**
 * The live directory end to end, over real sockets: a change in the emulator's admin console is
 * delivered (signed, encrypted) to the service's /wecom/callback, the cache drops what it touched,
 * the next query is fresh, and a client subscribed over SSE hears of it; the same for the
 * service's own mutations.
 */

const SUBSCRIBE = graphql(`
  subscription EndToEndChanges {
    contactChanged { kind source userid departmentId tagId changedFields cursor }
  }
`);
const TREE = graphql(`
  query EndToEndTree {
    department(id: 1) { children { departmentId name members(first: 200) { nodes { userid name position } } } }
  }
`);

const LATEST_CURSOR = graphql(`
  query EndToEndLatestCursor {
    directoryChanges(first: 1) { latestCursor }
  }
`);
const CHILDREN = graphql(`
  query EndToEndChildren {
    department(id: 1) { children { departmentId name } }
  }
`);
const CHANGES_SINCE = graphql(`
  query EndToEndChangesSince($since: String) {
    directoryChanges(since: $since) { changes { kind departmentId source cursor } }
  }
`);
const UPDATE_USER = graphql(`
  mutation EndToEndUpdateUser($input: UpdateUserInput!) {
    updateUser(input: $input) { __typename ... on MutationUpdateUserSuccess { data { userid name } } }
  }
`);

/** The emulator delivers its console's changes to the service; one client is subscribed over SSE for the whole file. */
const it = callbackTest(
  { cache: { ttlMs: 300_000 } },
  {
    prepare: deliverCallbacks,
    // warm (the stats are reset after it)
    beforeEach: async (service) => {
      expect((await executor(service)(TREE)).errors).toBeUndefined();
    },
  },
).extend('subscription', { scope: 'file' }, async ({ service }, { onCleanup }) => {
  const subscription = await SseSubscription.subscribe((url, init) => fetch(url, init), `${service.url}/graphql`, SUBSCRIBE);
  onCleanup(() => subscription.close());
  expect(subscription.response.status).toBe(200);
  return subscription;
});

async function upstream(service: ServiceHarness): Promise<Record<string, number>> {
  const { ['/cgi-bin/gettoken']: _token, ...calls } = await service.calls();
  return calls;
}

/** A member of a level-2 department who leads nothing (a rename then touches one list only). */
async function someMember(service: ServiceHarness): Promise<{ userid: string; name: string; department: number }> {
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
  it('reaches the callback, makes the next query fresh, and reaches a subscriber within a second', async ({
    service,
    execute,
    subscription,
  }) => {
    const member = await someMember(service);
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

    const res = await execute(TREE);
    const dept = res.data!.department!.children.find((d) => d.departmentId === member.department)!;
    const expected = (await service.wecom.console('user/list', { department_id: member.department })).json.userlist as {
      userid: string;
      name: string;
      position?: string;
    }[];
    expect(dept.members.nodes).toEqual(expected.map((u) => ({ userid: u.userid, name: u.name, position: u.position ?? null })));
    expect(dept.members.nodes.find((u) => u.userid === member.userid)).toMatchObject({
      name: '控制台改名',
      position: '架构师',
    });
    // only that member's list was read again
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': 1 });
  });

  it('shows a new department in the next tree query, and in the change feed', async ({ service, execute, subscription }) => {
    const before = (await execute(LATEST_CURSOR)).data!.directoryChanges.latestCursor;
    const created = await service.wecom.console('department/create', { name: '直播部', parentid: 1 });
    const id = created.json.id as number;
    const event = await subscription.next(1_000);
    expect(event!.data!.contactChanged).toMatchObject({ kind: 'DEPARTMENT_CREATED', source: 'CALLBACK', departmentId: id });

    const res = await execute(CHILDREN);
    expect(res.data!.department!.children).toContainEqual({ departmentId: id, name: '直播部' });
    expect((await upstream(service))['/cgi-bin/department/list']).toBe(1);

    const feed = await execute(CHANGES_SINCE, { since: before });
    expect(feed.data!.directoryChanges.changes).toEqual([
      { kind: 'DEPARTMENT_CREATED', departmentId: id, source: 'CALLBACK', cursor: event!.data!.contactChanged.cursor },
    ]);
  });

  it('leaves an org-tree query repeated within the TTL at zero WeCom calls when nothing changed', async ({ service, execute }) => {
    await execute(TREE);
    expect((await service.wecom.stats()).total).toBe(0);
  });
});

describe('the service’s own mutations', () => {
  it('invalidate exactly what they touched and reach subscribers', async ({ service, execute, subscription }) => {
    const member = await someMember(service);
    const res = await execute(UPDATE_USER, { input: { userid: member.userid, name: '改自接口' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateUser).toEqual({ __typename: 'MutationUpdateUserSuccess', data: { userid: member.userid, name: '改自接口' } });

    const event = await subscription.next(1_000);
    expect(event!.data!.contactChanged).toMatchObject({ kind: 'USER_UPDATED', source: 'MUTATION', userid: member.userid });
    // The contacts-sync API's own change fires no callback (§9.6): nothing else arrives.
    await new Promise((r) => setTimeout(r, 200));
    expect(subscription.pending()).toBe(0);

    await service.wecom.resetStats();
    const after = await execute(TREE);
    const dept = after.data!.department!.children.find((d) => d.departmentId === member.department)!;
    expect(dept.members.nodes.find((u) => u.userid === member.userid)!.name).toBe('改自接口');
    expect(await upstream(service)).toEqual({ '/cgi-bin/user/list': 1 });
  });
});
