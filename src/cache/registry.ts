import { userKey } from 'wecom-protocol/userid';
import type { CacheEntry } from './entries.ts';

/**
 * Reverse indexes over what the cache holds, so a change can be mapped to exactly the entries it
 * touches without scanning 50,000 members: which member lists hold a member or name them as a
 * direct leader, which cached members report to whom, which tags hold a member or a department,
 * who leads a department in the cached tree.
 *
 * It mirrors the LRU exactly: `add` runs when the LRU stores an entry (onInsert), `remove` when it
 * lets one go (dispose: evicted, deleted, replaced). lru-cache disposes the old value before it
 * reports the new one, so a replacement is a remove followed by an add.
 */
export class CacheRegistry {
  /** Member lists by department: the members they hold and the direct leaders they name. */
  private readonly memberLists = new Map<number, { members: Set<string>; leaders: Set<string> }>();
  /** Cached single members by the userids in their direct_leader. */
  private readonly reportsByLeader = new Map<string, Set<string>>();
  /** Tags (tag/get) by id: the members and departments on them. */
  private readonly tagMembers = new Map<number, { users: Set<string>; departments: Set<number> }>();
  /** Department leaders of the cached tree (department_leader). */
  private treeLeaders = new Set<string>();
  /** Tag ids of the cached tag/list, or null when it is not cached. */
  private listedTags: Set<number> | null = null;

  add(entry: CacheEntry): void {
    switch (entry.kind) {
      case 'departments':
        this.treeLeaders = new Set(entry.value.flatMap((d) => d.departmentLeader.map(userKey)));
        break;
      case 'members': {
        const members = new Set<string>();
        const leaders = new Set<string>();
        for (const u of entry.value) {
          members.add(userKey(u.userid));
          for (const l of u.directLeader) leaders.add(userKey(l));
        }
        this.memberLists.set(entry.departmentId, { members, leaders });
        break;
      }
      case 'user':
        for (const leader of entry.value?.directLeader ?? []) {
          const key = userKey(leader);
          let reports = this.reportsByLeader.get(key);
          if (!reports) this.reportsByLeader.set(key, (reports = new Set()));
          reports.add(entry.userKey);
        }
        break;
      case 'tags':
        this.listedTags = new Set(entry.value.map((t) => t.tagid));
        break;
      case 'tag':
        this.tagMembers.set(entry.tagId, {
          users: new Set((entry.value?.userlist ?? []).map((u) => userKey(u.userid))),
          departments: new Set(entry.value?.partylist ?? []),
        });
        break;
    }
  }

  remove(entry: CacheEntry): void {
    switch (entry.kind) {
      case 'departments':
        this.treeLeaders = new Set();
        break;
      case 'members':
        this.memberLists.delete(entry.departmentId);
        break;
      case 'user':
        for (const leader of entry.value?.directLeader ?? []) {
          const key = userKey(leader);
          const reports = this.reportsByLeader.get(key);
          reports?.delete(entry.userKey);
          if (reports?.size === 0) this.reportsByLeader.delete(key);
        }
        break;
      case 'tags':
        this.listedTags = null;
        break;
      case 'tag':
        this.tagMembers.delete(entry.tagId);
        break;
    }
  }

  /** Departments whose cached member list holds any of these members. */
  listsHolding(userKeys: readonly string[]): number[] {
    return this.matchingLists((list) => userKeys.some((k) => list.members.has(k)));
  }

  /** Departments whose cached member list has someone reporting to any of these members. */
  listsNamingLeader(userKeys: readonly string[]): number[] {
    return this.matchingLists((list) => userKeys.some((k) => list.leaders.has(k)));
  }

  /** Cached single members that report to any of these members. */
  reportsOf(userKeys: readonly string[]): string[] {
    return userKeys.flatMap((k) => [...(this.reportsByLeader.get(k) ?? [])]);
  }

  /** How many member lists the cache holds (expired included): O(1), read on every cost estimate. */
  get memberListCount(): number {
    return this.memberLists.size;
  }

  /** Cached department ids with a member list. */
  cachedMemberLists(): number[] {
    return [...this.memberLists.keys()];
  }

  /** Cached tags that hold any of these members. */
  tagsHoldingUsers(userKeys: readonly string[]): number[] {
    return this.matchingTags((tag) => userKeys.some((k) => tag.users.has(k)));
  }

  /** Cached tags that list this department. */
  tagsHoldingDepartment(departmentId: number): number[] {
    return this.matchingTags((tag) => tag.departments.has(departmentId));
  }

  /** Whether any of these members leads a department of the cached tree. */
  leadsDepartment(userKeys: readonly string[]): boolean {
    return userKeys.some((k) => this.treeLeaders.has(k));
  }

  /** Whether the cached tag/list names this tag (true when no list is cached: nothing to fix). */
  tagListed(tagId: number): boolean {
    return this.listedTags === null || this.listedTags.has(tagId);
  }

  private matchingLists(test: (list: { members: Set<string>; leaders: Set<string> }) => boolean): number[] {
    const out: number[] = [];
    for (const [id, list] of this.memberLists) if (test(list)) out.push(id);
    return out;
  }

  private matchingTags(test: (tag: { users: Set<string>; departments: Set<number> }) => boolean): number[] {
    const out: number[] = [];
    for (const [id, tag] of this.tagMembers) if (test(tag)) out.push(id);
    return out;
  }
}
