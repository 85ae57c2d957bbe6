import { describe, expect, it } from 'vitest';
import { CorpSizesCache, SIZES_REBUILD_INTERVAL_MS, type DirectoryPeek } from '../../src/security/corp-sizes.ts';
import type { WeComDepartment } from '../../src/wecom/departments.ts';
import type { WeComUser } from '../../src/wecom/users.ts';

/**
 * The corp's sizes are read on every cost estimate: unchanged, they cost no walk of the cached
 * lists; member changes rebuild them at most once a second; a new tree rebuilds them at once.
 */

const department = (id: number, parentid: number): WeComDepartment =>
  ({ id, parentid, name: `d${id}`, departmentLeader: [] }) as unknown as WeComDepartment;
const member = (userid: string): WeComUser => ({ userid, directLeader: [] }) as unknown as WeComUser;

function fakeDirectory() {
  const lists = new Map<number, WeComUser[]>([
    [1, [member('a')]],
    [2, [member('b'), member('c')]],
  ]);
  const directory = {
    departments: [department(1, 0), department(2, 1)] as readonly WeComDepartment[],
    generation: 0,
    listReads: 0,
    peekDepartments: () => directory.departments,
    peekMembers: (id: number) => {
      directory.listReads++;
      return lists.get(id);
    },
    peekUser: () => undefined,
    get cachedMemberListCount() {
      return lists.size;
    },
  };
  return { directory: directory satisfies DirectoryPeek, lists };
}

describe('corp sizes cache', () => {
  it('answers an unchanged directory without reading a single list', () => {
    const { directory } = fakeDirectory();
    const cache = new CorpSizesCache(directory, () => 0);
    const first = cache.current();
    expect(first?.recursiveMembers(1)).toBe(3);
    const reads = directory.listReads;
    expect(cache.current()).toBe(first);
    expect(directory.listReads).toBe(reads);
  });

  it('rebuilds after a member change at most once a second, then with the change', () => {
    const { directory, lists } = fakeDirectory();
    let now = 0;
    const cache = new CorpSizesCache(directory, () => now);
    const first = cache.current();
    lists.set(2, [member('b'), member('c'), member('d')]);
    directory.generation++;
    now += SIZES_REBUILD_INTERVAL_MS - 1;
    expect(cache.current()).toBe(first);
    now += 1;
    const rebuilt = cache.current();
    expect(rebuilt).not.toBe(first);
    expect(rebuilt?.recursiveMembers(1)).toBe(4);
  });

  it('rebuilds at once when the tree changes', () => {
    const { directory } = fakeDirectory();
    const cache = new CorpSizesCache(directory, () => 0);
    cache.current();
    directory.departments = [department(1, 0), department(2, 1), department(3, 2)];
    expect(cache.current()?.descendantCount(1)).toBe(2);
  });
});
