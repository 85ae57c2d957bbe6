import { describe, expect, it } from 'vitest';
import { serviceTest } from '../testkit/service.ts';
import { SseSubscription } from '../helpers/sse.ts';
import { ChangeBus, type DirectoryChange } from '../../src/directory/changes.ts';
import { ChangeFeed, ChangeFeedError } from '../../src/directory/change-feed.ts';
import { ChangeView, type Classify } from '../../src/directory/change-view.ts';

/**
 * The change feed behind `directoryChanges(since)` and `contactChanged(types)`: ordered, bounded,
 * resumable, with clear errors for cursors it cannot continue.
 */

const rename = (userid: string): DirectoryChange => ({ kind: 'USER_UPDATED', userid, changedFields: ['name'], source: 'mutation' });

describe('ChangeFeed', () => {
  it('pages through changes in order from a cursor, and says when more follow', () => {
    const bus = new ChangeBus();
    const feed = new ChangeFeed(bus, { maxEntries: 100, retentionMs: 60_000 });
    const start = feed.latestCursor();
    for (let i = 1; i <= 5; i++) bus.publish(rename(`u${i}`));
    const first = feed.page(start, 2);
    expect(first.changes.map((c) => [c.sequence, (c.change as { userid: string }).userid])).toEqual([
      [1, 'u1'],
      [2, 'u2'],
    ]);
    expect(first.hasMore).toBe(true);
    const rest = feed.page(first.endCursor, 10);
    expect(rest.changes.map((c) => c.sequence)).toEqual([3, 4, 5]);
    expect(rest.hasMore).toBe(false);
    expect(rest.endCursor).toBe(feed.latestCursor());
    // nothing new: the same cursor comes back
    expect(feed.page(rest.endCursor, 10)).toEqual({ changes: [], endCursor: rest.endCursor, hasMore: false });
  });

  it('keeps at most maxEntries: an older cursor expires, the oldest kept one still works', () => {
    const bus = new ChangeBus();
    const feed = new ChangeFeed(bus, { maxEntries: 3, retentionMs: 60_000 });
    const start = feed.latestCursor();
    for (let i = 1; i <= 6; i++) bus.publish(rename(`u${i}`));
    expect(() => feed.page(start, 10)).toThrow(ChangeFeedError);
    try {
      feed.page(start, 10);
    } catch (err) {
      expect((err as ChangeFeedError).code).toBe('CHANGE_FEED_EXPIRED');
    }
    expect(feed.page(null, 10).changes.map((c) => c.sequence)).toEqual([4, 5, 6]);
    const third = feed.page(null, 10).changes[0]!.cursor; // seq 4 → continues with 5, 6
    expect(feed.page(third, 10).changes.map((c) => c.sequence)).toEqual([5, 6]);
  });

  it('drops changes older than the retention time', () => {
    const bus = new ChangeBus();
    let now = 0;
    const feed = new ChangeFeed(bus, { maxEntries: 100, retentionMs: 1000, now: () => now });
    bus.publish(rename('old'));
    const afterOld = feed.latestCursor();
    now = 500;
    bus.publish(rename('newer'));
    now = 1200;
    expect(feed.page(null, 10).changes.map((c) => (c.change as { userid: string }).userid)).toEqual(['newer']);
    expect(feed.page(afterOld, 10).changes).toHaveLength(1);
    now = 1600;
    expect(() => feed.page(afterOld, 10)).toThrow(/older than the retained changes/);
  });

  it('refuses cursors it did not hand out, and those of another run', () => {
    const bus = new ChangeBus();
    const feed = new ChangeFeed(bus, { maxEntries: 10, retentionMs: 60_000 });
    const other = new ChangeFeed(new ChangeBus(), { maxEntries: 10, retentionMs: 60_000 });
    expect(() => feed.page('not-a-cursor', 1)).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
    expect(() => feed.page(other.latestCursor(), 1)).toThrow(expect.objectContaining({ code: 'CHANGE_FEED_EXPIRED' }));
    bus.publish(rename('x'));
    const ahead = Buffer.from(Buffer.from(feed.latestCursor(), 'base64url').toString().replace(/:1$/, ':9'), 'utf8').toString('base64url');
    expect(() => feed.page(ahead, 1)).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
  });

  it('streams live changes of the chosen kinds, after replaying those since a cursor', async () => {
    const bus = new ChangeBus();
    const feed = new ChangeFeed(bus, { maxEntries: 10, retentionMs: 60_000 });
    bus.publish(rename('before'));
    const since = feed.latestCursor();
    bus.publish({ kind: 'TAG_CREATED', tagId: 7, source: 'mutation' });
    bus.publish(rename('missed'));
    const stream = feed.stream({ kinds: ['USER_UPDATED'], since });
    bus.publish(rename('live'));
    const got = [await stream.next(), await stream.next()].map((r) => (r.value!.change as { userid: string }).userid);
    expect(got).toEqual(['missed', 'live']);
    await stream.return();
    bus.publish(rename('after-close'));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('cuts off a subscriber that falls too far behind', async () => {
    const bus = new ChangeBus();
    const feed = new ChangeFeed(bus, { maxEntries: 100, retentionMs: 60_000 });
    const stream = feed.stream({ maxPending: 2 });
    for (let i = 0; i < 4; i++) bus.publish(rename(`u${i}`));
    await stream.next();
    await stream.next();
    await expect(stream.next()).rejects.toMatchObject({ code: 'CHANGE_STREAM_OVERFLOW' });
  });
});

/** A view's verdicts: members whose userid starts with "in." are shown; every verdict is counted. */
function insideOnly(): Classify & { judged: string[] } {
  const judged: string[] = [];
  const classify = async (changes: readonly { change: DirectoryChange }[]) =>
    changes.map(({ change }) => {
      const userid = (change as { userid: string }).userid;
      judged.push(userid);
      return userid.startsWith('in.') ? change : null;
    });
  return Object.assign(classify, { judged });
}

/** A view of a new feed that keeps `maxEntries` changes. */
function viewOfNewFeed(maxEntries = 100) {
  const bus = new ChangeBus();
  const feed = new ChangeFeed(bus, { maxEntries, retentionMs: 60_000 });
  return { bus, feed, view: new ChangeView(feed) };
}

const useridsOf = (changes: readonly { change: DirectoryChange }[]) => changes.map((c) => (c.change as { userid: string }).userid);

describe('ChangeView', () => {
  it('numbers only the changes it shows, and judges each change once', async () => {
    const { bus, feed, view } = viewOfNewFeed();
    const classify = insideOnly();
    for (const u of ['out.1', 'in.1', 'out.2', 'out.3', 'in.2']) bus.publish(rename(u));
    const all = await view.page(null, 10, classify);
    expect(all.changes.map((c) => [c.sequence, (c.change as { userid: string }).userid])).toEqual([
      [1, 'in.1'],
      [2, 'in.2'],
    ]);
    expect(all.latestCursor).toBe(all.changes[1]!.cursor);
    const first = await view.page(null, 1, classify);
    expect(useridsOf((await view.page(first.endCursor, 10, classify)).changes)).toEqual(['in.2']);
    bus.publish(rename('out.4'));
    expect(await view.page(all.endCursor, 10, classify)).toEqual({
      changes: [],
      endCursor: all.endCursor,
      hasMore: false,
      latestCursor: all.endCursor,
    });
    expect(classify.judged).toEqual(['out.1', 'in.1', 'out.2', 'out.3', 'in.2', 'out.4']);
    // The whole feed's cursors are another numbering.
    await expect(view.page(feed.latestCursor(), 10, classify)).rejects.toMatchObject({ code: 'CHANGE_FEED_EXPIRED' });
  });

  it('streams what it shows after a cursor, then live, numbered like its pages', async () => {
    const { bus, view } = viewOfNewFeed();
    const classify = insideOnly();
    bus.publish(rename('in.1'));
    const since = (await view.page(null, 10, classify)).latestCursor;
    bus.publish(rename('out.1'));
    bus.publish(rename('in.2'));
    const stream = await view.stream({ since }, classify);
    bus.publish(rename('out.2'));
    bus.publish(rename('in.3'));
    const got = [(await stream.next()).value!, (await stream.next()).value!];
    expect(got.map((c) => [c.sequence, (c.change as { userid: string }).userid])).toEqual([
      [2, 'in.2'],
      [3, 'in.3'],
    ]);
    expect((await view.page(since, 10, classify)).changes).toEqual(got);
    await stream.return();
  });

  it('starts over, expiring its cursors and subscriptions, when the feed dropped changes it had not judged', async () => {
    const { bus, view } = viewOfNewFeed(2);
    const classify = insideOnly();
    bus.publish(rename('in.1'));
    const cursor = (await view.page(null, 10, classify)).latestCursor;
    for (const u of ['out.1', 'out.2', 'in.2']) bus.publish(rename(u));
    await expect(view.page(cursor, 10, classify)).rejects.toMatchObject({ code: 'CHANGE_FEED_EXPIRED' });
    const fresh = await view.page(null, 10, classify);
    expect(fresh.changes.map((c) => [c.sequence, (c.change as { userid: string }).userid])).toEqual([[1, 'in.2']]);
  });

  it('ends its subscriptions with the error when a change cannot be judged; a resume judges it again', async () => {
    const { bus, view } = viewOfNewFeed();
    let failing = true;
    const flaky: Classify = async (changes) => {
      if (failing && changes.length) throw new Error('WeCom unavailable');
      return changes.map((c) => c.change);
    };
    const since = (await view.page(null, 10, flaky)).latestCursor;
    const stream = await view.stream({}, flaky);
    bus.publish(rename('in.1'));
    await expect(stream.next()).rejects.toThrow('WeCom unavailable');
    failing = false;
    expect(useridsOf((await view.page(since, 10, flaky)).changes)).toEqual(['in.1']);
  });
});

/** The graph's tests share one service; the feed's own tests above need none. */
const itWithService = serviceTest({ cache: {}, changeFeed: { maxEntries: 5, retentionMs: 60_000 } }, { resetStats: false });

describe('directoryChanges and contactChanged in the graph', () => {
  const FIELDS =
    'cursor sequence kind source userid newUserid departmentIds departmentId parentId tagId addedUserids changedFields occurredAt';

  itWithService(
    'lists the changes since a cursor with typed fields, and refuses an expired cursor with CHANGE_FEED_EXPIRED',
    async ({ service }) => {
      const start = (await service.query('{ directoryChanges(first: 1) { latestCursor } }')).data!.directoryChanges.latestCursor as string;
      service.changes.publish({
        kind: 'USER_UPDATED',
        userid: 'zhangsan',
        newUserid: 'zhangsan2',
        departmentIds: [2, 3],
        changedFields: ['userid'],
        source: 'callback',
      });
      service.changes.publish({
        kind: 'DEPARTMENT_UPDATED',
        departmentId: 5,
        parentId: 2,
        changedFields: ['parentid'],
        source: 'mutation',
      });
      service.changes.publish({ kind: 'TAG_MEMBERS_CHANGED', tagId: 3, addedUserids: ['lisi'], source: 'callback' });
      const res = await service.query(
        `query($since: String) { directoryChanges(since: $since, first: 2) { changes { ${FIELDS} } endCursor hasMore latestCursor } }`,
        { since: start },
      );
      expect(res.errors).toBeUndefined();
      const page = res.data!.directoryChanges;
      expect(page.hasMore).toBe(true);
      expect(page.changes).toHaveLength(2);
      expect(page.changes[0]).toMatchObject({
        kind: 'USER_UPDATED',
        source: 'CALLBACK',
        userid: 'zhangsan',
        newUserid: 'zhangsan2',
        departmentIds: [2, 3],
        departmentId: null,
        tagId: null,
        changedFields: ['userid'],
      });
      expect(new Date(page.changes[0].occurredAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(page.changes[1]).toMatchObject({
        kind: 'DEPARTMENT_UPDATED',
        source: 'MUTATION',
        departmentId: 5,
        parentId: 2,
        userid: null,
        changedFields: ['parentid'],
      });
      expect(page.endCursor).toBe(page.changes[1].cursor);
      const next = await service.query(
        `query($since: String) { directoryChanges(since: $since) { changes { kind tagId addedUserids } hasMore } }`,
        { since: page.endCursor },
      );
      expect(next.data!.directoryChanges).toEqual({
        changes: [{ kind: 'TAG_MEMBERS_CHANGED', tagId: 3, addedUserids: ['lisi'] }],
        hasMore: false,
      });

      // five are kept: three more push `start` out of the window
      for (let i = 0; i < 3; i++) service.changes.publish({ kind: 'TAG_CREATED', tagId: 100 + i, source: 'mutation' });
      const expired = await service.query(`query($since: String) { directoryChanges(since: $since) { hasMore } }`, { since: start });
      expect(expired.data).toBeNull();
      expect(expired.errors![0]!.extensions).toEqual({ code: 'CHANGE_FEED_EXPIRED' });
      expect(expired.errors![0]!.message).toMatch(/reload the directory/);

      const bad = await service.query(`{ directoryChanges(since: "garbage") { hasMore } }`);
      expect(bad.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
      const tooMany = await service.query(`{ directoryChanges(first: 5000) { hasMore } }`);
      expect(tooMany.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    },
  );

  itWithService('streams contactChanged over SSE, filtered by type', async ({ service }) => {
    const sub = await SseSubscription.open(
      (url, init) => service.app.yoga.fetch(url, init),
      'http://yoga/graphql',
      'subscription { contactChanged(types: [USER_DELETED, TAG_MEMBERS_CHANGED]) { kind userid tagId removedUserids source } }',
    );
    try {
      expect(sub.response.headers.get('content-type')).toMatch(/text\/event-stream/);
      // The response arrives once the subscription is attached: nothing published from now on is missed.
      service.changes.publish({ kind: 'USER_UPDATED', userid: 'ignored', source: 'mutation' });
      service.changes.publish({ kind: 'USER_DELETED', userid: 'wangwu', source: 'mutation' });
      service.changes.publish({ kind: 'TAG_MEMBERS_CHANGED', tagId: 4, removedUserids: ['zhaoliu'], source: 'callback' });
      expect(await sub.next()).toEqual({
        data: { contactChanged: { kind: 'USER_DELETED', userid: 'wangwu', tagId: null, removedUserids: null, source: 'MUTATION' } },
      });
      expect(await sub.next()).toEqual({
        data: { contactChanged: { kind: 'TAG_MEMBERS_CHANGED', userid: null, tagId: 4, removedUserids: ['zhaoliu'], source: 'CALLBACK' } },
      });
      expect(sub.pending()).toBe(0);
    } finally {
      sub.close();
    }
  });

  itWithService('refuses a subscription from an unusable cursor with the same codes', async ({ service }) => {
    const sub = await SseSubscription.open(
      (url, init) => service.app.yoga.fetch(url, init),
      'http://yoga/graphql',
      'subscription { contactChanged(since: "garbage") { kind } }',
    );
    try {
      const first = await sub.next();
      expect(first!.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    } finally {
      sub.close();
    }
  });
});
