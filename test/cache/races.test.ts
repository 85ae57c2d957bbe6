import { describe, expect, it } from 'vitest';
import { DirectoryCache } from '../../src/cache/directory-cache.ts';
import type { DirectorySource } from '../../src/directory/source.ts';
import type { WeComDepartment } from '../../src/wecom/departments.ts';
import type { WeComUser } from '../../src/wecom/users.ts';
import type { WeComTag, WeComTagSummary } from '../../src/wecom/tags.ts';

/**
 * The cache's behaviour when reads and changes interleave, which real HTTP cannot order
 * deterministically: a source whose answers the test releases by hand. Each read answers what the
 * directory held when the read was made (as WeCom would), however late the answer arrives.
 */

const user = (userid: string, name: string, department: number[]): WeComUser => ({
  userid,
  name,
  department,
  order: department.map(() => 0),
  isLeaderInDept: department.map(() => 0),
  directLeader: [],
});

class HeldSource implements DirectorySource {
  /** The directory "in WeCom". */
  members_ = new Map<number, WeComUser[]>([[2, [user('a', 'A', [2])]]]);
  departments_: WeComDepartment[] = [{ id: 1, name: 'root', parentid: 0, order: 0, departmentLeader: [] }];
  loads: Record<string, number> = {};
  hold = false;
  private held: (() => void)[] = [];

  async departments(): Promise<WeComDepartment[]> {
    return this.answer('departments', structuredClone(this.departments_));
  }
  async members(departmentId: number): Promise<WeComUser[]> {
    return this.answer('members', structuredClone(this.members_.get(departmentId) ?? []));
  }
  async user(userid: string): Promise<WeComUser | null> {
    const found = [...this.members_.values()].flat().find((u) => u.userid === userid);
    return this.answer('user', found ? structuredClone(found) : null);
  }
  async tags(): Promise<WeComTagSummary[]> {
    return this.answer('tags', []);
  }
  async tag(): Promise<WeComTag | null> {
    return this.answer('tag', null);
  }

  /** Releases every answer held so far. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  get waiting(): number {
    return this.held.length;
  }

  private answer<T>(what: string, value: T): Promise<T> {
    this.loads[what] = (this.loads[what] ?? 0) + 1;
    if (!this.hold) return Promise.resolve(value);
    return new Promise((resolve) => this.held.push(() => resolve(value)));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function cacheOver(source: HeldSource, clock = { now: 0 }, maxEntries = 1000): DirectoryCache {
  return new DirectoryCache(source, { corpId: 'wwtest', ttlMs: 1000, staleMs: 500, maxEntries, now: () => clock.now });
}

describe('reads in flight', () => {
  it('N concurrent cold reads of one key make one upstream read and share its answer', async () => {
    const source = new HeldSource();
    const cache = cacheOver(source);
    source.hold = true;
    const reads = Array.from({ length: 20 }, () => cache.members(2));
    await tick();
    expect(source.waiting).toBe(1);
    source.release();
    const answers = await Promise.all(reads);
    for (const a of answers) expect(a).toBe(answers[0]);
    expect(source.loads).toEqual({ members: 1 });
    expect(cache.stats()).toMatchObject({ misses: 1, joined: 19, loads: 1 });
  });

  it('a change during a cold read makes the read again: the answer from before the change is never served or stored', async () => {
    const source = new HeldSource();
    const cache = cacheOver(source);
    source.hold = true;
    const read = cache.members(2);
    await tick();
    // WeCom changes, and the change is announced, while the first answer is on its way.
    source.members_.set(2, [user('a', 'A renamed', [2])]);
    cache.apply({ kind: 'USER_UPDATED', userid: 'a', changedFields: ['name'], source: 'callback' });
    source.release();
    await tick();
    source.release();
    expect((await read)[0]!.name).toBe('A renamed');
    expect(source.loads).toEqual({ members: 2 });
    source.hold = false;
    expect((await cache.members(2))[0]!.name).toBe('A renamed');
    expect(source.loads).toEqual({ members: 2 });
  });

  it('an expired value that a change made wrong is not served while its refresh runs', async () => {
    const source = new HeldSource();
    const clock = { now: 0 };
    const cache = cacheOver(source, clock);
    expect((await cache.members(2))[0]!.name).toBe('A');
    clock.now = 1200; // past the TTL, within the stale window
    source.hold = true;
    // The first read after expiry gets the stale value and starts the refresh.
    expect((await cache.members(2))[0]!.name).toBe('A');
    expect(cache.stats().stale).toBe(1);
    expect(source.waiting).toBe(1);
    source.members_.set(2, [user('a', 'A2', [2])]);
    cache.apply({ kind: 'USER_UPDATED', userid: 'a', changedFields: ['name'], source: 'callback' });
    // Now the stale value is known wrong: this read waits for the refetch.
    const waiting = cache.members(2);
    source.release();
    await tick();
    source.release();
    expect((await waiting)[0]!.name).toBe('A2');
  });

  it('a read evicted while in flight still answers its readers', async () => {
    const source = new HeldSource();
    source.members_ = new Map(Array.from({ length: 10 }, (_, i) => [i + 10, [user(`u${i}`, `U${i}`, [i + 10])]]));
    const cache = cacheOver(source, { now: 0 }, 3);
    source.hold = true;
    const first = cache.members(10);
    await tick();
    // Three more keys push the first (least recently used) out while it is in flight.
    const others = [11, 12, 13].map((id) => cache.members(id));
    for (let i = 0; i < 5; i++) {
      source.release();
      await tick();
    }
    source.hold = false;
    source.release();
    expect((await first)[0]!.userid).toBe('u0');
    expect((await Promise.all(others)).map((l) => l[0]!.userid)).toEqual(['u1', 'u2', 'u3']);
  });

  it('a failed read is not cached: the next read goes upstream again', async () => {
    const source = new HeldSource();
    const cache = cacheOver(source);
    let fail = true;
    const original = source.departments.bind(source);
    source.departments = async () => {
      if (fail) {
        source.loads['departments'] = (source.loads['departments'] ?? 0) + 1;
        throw new Error('upstream down');
      }
      return original();
    };
    await expect(cache.departments()).rejects.toThrow('upstream down');
    fail = false;
    expect(await cache.departments()).toHaveLength(1);
    expect(source.loads).toEqual({ departments: 2 });
  });
});

describe('derived views', () => {
  it('are built once for concurrent callers, kept across calls, rebuilt after a change to what they depend on', async () => {
    const source = new HeldSource();
    const cache = cacheOver(source);
    let builds = 0;
    const build = async () => {
      builds++;
      return (await cache.members(2)).map((u) => u.name);
    };
    const [a, b] = await Promise.all([cache.derived('names', ['members'], build), cache.derived('names', ['members'], build)]);
    expect(a).toBe(b);
    expect(await cache.derived('names', ['members'], build)).toBe(a);
    expect(builds).toBe(1);

    // a tag change does not touch a view built from member lists
    cache.apply({ kind: 'TAG_MEMBERS_CHANGED', tagId: 1, source: 'mutation' });
    expect(await cache.derived('names', ['members'], build)).toBe(a);

    source.members_.set(2, [user('a', 'A3', [2])]);
    cache.apply({ kind: 'USER_UPDATED', userid: 'a', changedFields: ['name'], source: 'mutation' });
    expect(await cache.derived('names', ['members'], build)).toEqual(['A3']);
    expect(builds).toBe(2);
  });

  it('are not kept when `keep` refuses the value, nor when the build fails', async () => {
    const source = new HeldSource();
    const cache = cacheOver(source);
    let builds = 0;
    await cache.derived(
      'partial',
      ['tags'],
      async () => ++builds,
      () => false,
    );
    await cache.derived(
      'partial',
      ['tags'],
      async () => ++builds,
      () => false,
    );
    expect(builds).toBe(2);
    await expect(cache.derived('broken', ['tags'], async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await cache.derived('broken', ['tags'], async () => 'fine')).toBe('fine');
  });

  it('expire with the TTL', async () => {
    const source = new HeldSource();
    const clock = { now: 0 };
    const cache = cacheOver(source, clock);
    let builds = 0;
    await cache.derived('v', ['departments'], async () => ++builds);
    clock.now = 999;
    await cache.derived('v', ['departments'], async () => ++builds);
    expect(builds).toBe(1);
    clock.now = 1001;
    await cache.derived('v', ['departments'], async () => ++builds);
    expect(builds).toBe(2);
  });
});
