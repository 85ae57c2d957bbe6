import { userKey } from 'wecom-protocol/userid';
import DataLoader from 'dataloader';
import type { DerivedDependency, DirectorySource } from '../directory/source.ts';
import { DepartmentTree } from '../directory/tree.ts';
import { yieldIfBusy } from '../ops/yield.ts';
import { UserSearchIndex } from '../directory/search.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComTag, WeComTagSummary } from '../wecom/tags.ts';

/** DataLoader wants one result or Error per key; one failed upstream read must not sink the rest. */
async function settleEach<K, V>(keys: readonly K[], load: (key: K) => Promise<V>): Promise<(V | Error)[]> {
  const settled = await Promise.allSettled(keys.map(load));
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : s.reason instanceof Error ? s.reason : new Error(String(s.reason))));
}

/**
 * The views read from every department's member list, shared across requests by name (see
 * `DirectorySource.derived`): a request that finds one built reads no list for it.
 */
export const EVERYONE_VIEWS = {
  searchIndex: ['departments', 'members'],
  directReports: ['departments', 'members'],
} as const satisfies Record<string, readonly DerivedDependency[]>;
export type EveryoneView = keyof typeof EVERYONE_VIEWS;

/** How many members the subtree count walks between checks whether other requests should run. */
const YIELD_EVERY_MEMBERS = 2_048;

/**
 * Per-request loaders: fresh for every request, so nothing here outlives it (cross-request
 * caching belongs to the DirectorySource below). They plan around WeCom's lack of "get many":
 * the tree comes from one department/list, members from one user/list per department, and a
 * single-member lookup is answered from the lists already loaded before WeCom is asked.
 */
export class RequestLoaders {
  private treePromise?: Promise<DepartmentTree>;
  private tagsPromise?: Promise<WeComTagSummary[]>;
  private allUsersPromise?: Promise<WeComUser[]>;
  private reportsPromise?: Promise<Map<string, WeComUser[]>>;
  private tagIndexPromise?: Promise<TagIndex>;
  private searchPromise?: Promise<UserSearchIndex>;

  constructor(private readonly source: DirectorySource) {}

  /** Member lists loaded in this request, indexed by userid only once a single member is looked up. */
  private readonly listed: WeComUser[][] = [];
  private listedIndexed = 0;
  private readonly listedUsers = new Map<string, WeComUser>();

  /** Members directly in each department: one user/list per department. */
  readonly members = new DataLoader<number, WeComUser[]>((ids) =>
    settleEach(ids, async (id) => {
      const users = await this.source.members(id);
      this.listed.push(users);
      return users;
    }),
  );

  /** One member by userid (case-insensitive): user/get unless a list already brought it. */
  readonly user = new DataLoader<string, WeComUser | null>(
    (ids) => settleEach(ids, (id) => Promise.resolve(this.listedUser(id) ?? this.source.user(id))),
    {
      cacheKeyFn: userKey,
    },
  );

  /**
   * A member some loaded list already holds. Indexed lazily: a whole-tree query loads tens of
   * thousands of members and most requests never look one up by id.
   */
  private listedUser(userid: string): WeComUser | undefined {
    for (; this.listedIndexed < this.listed.length; this.listedIndexed++) {
      for (const u of this.listed[this.listedIndexed]!) this.listedUsers.set(userKey(u.userid), u);
    }
    return this.listedUsers.get(userKey(userid));
  }

  readonly tag = new DataLoader<number, WeComTag | null>((ids) => settleEach(ids, (id) => this.source.tag(id)));

  tree(): Promise<DepartmentTree> {
    // Shared when the source memoises views: the tree is rebuilt only after a department change.
    return (this.treePromise ??= this.shared('tree', ['departments'], () =>
      this.source.departments().then((list) => new DepartmentTree(list)),
    ));
  }

  tags(): Promise<WeComTagSummary[]> {
    return (this.tagsPromise ??= this.source.tags());
  }

  private readonly subtrees = new Map<number, Promise<WeComUser[]>>();

  /**
   * Members of a department and all its descendants, each once, computed from the tree; once per
   * request (members(recursive) asked twice of one department shares it).
   */
  subtreeMembers(departmentId: number): Promise<WeComUser[]> {
    let members = this.subtrees.get(departmentId);
    if (!members) {
      members = this.tree().then(async (tree) => distinct(await this.loadMembers(tree.subtreeIds(departmentId))));
      this.subtrees.set(departmentId, members);
    }
    return members;
  }

  /**
   * Members of each department's subtree, each counted once: one pass over the union of the
   * subtrees' lists for all the departments a request counts (a dashboard counts every one),
   * instead of a distinct copy of each subtree's members per department. The pass yields to
   * other requests; its callers must not (a yield before `load` splits the batch, and each part
   * walks its subtrees' lists again).
   */
  readonly subtreeMemberCount = new DataLoader<number, number>(async (ids) => {
    const tree = await this.tree();
    const subtrees = ids.map((id) => tree.subtreeIds(id));
    const departments = [...new Set(subtrees.flat())];
    const lists = await this.members.loadMany(departments);
    // Where each member is listed, so a member of two departments counts once in a common ancestor.
    // Most members are listed in one department: counted per department, with no key or array.
    // Those listed in several are grouped by member, to count once in their common ancestors.
    const singles = new Map<number, number>();
    const listedIn = new Map<string, number[]>();
    const failed = new Map<number, Error>();
    for (let i = 0; i < departments.length; i++) {
      const list = lists[i]!;
      const id = departments[i]!;
      if (list instanceof Error) {
        failed.set(id, list);
        continue;
      }
      let single = 0;
      for (const u of list) {
        if (u.department.length === 1) single++;
        else push(listedIn, userKey(u.userid), id);
      }
      singles.set(id, single);
      await yieldIfBusy();
    }
    const counts = new Map<number, number>();
    ids.forEach((id, i) => {
      let count = 0;
      for (const d of subtrees[i]!) count += singles.get(d) ?? 0;
      counts.set(id, count);
    });
    // The last member that counted in each department: an ancestor already reached is not walked again.
    const countedFor = new Map<number, number>();
    let member = 0;
    for (const homes of listedIn.values()) {
      if (++member % YIELD_EVERY_MEMBERS === 0) await yieldIfBusy();
      for (const home of homes) {
        for (let d = tree.get(home); d && countedFor.get(d.id) !== member; d = tree.parent(d.id)) {
          countedFor.set(d.id, member);
          const count = counts.get(d.id);
          if (count !== undefined) counts.set(d.id, count + 1);
        }
      }
    }
    // A list that failed fails the counts of the subtrees holding it, not the others.
    return ids.map((id, i) => {
      const at = failed.size ? subtrees[i]!.find((d) => failed.has(d)) : undefined;
      return at === undefined ? counts.get(id)! : failed.get(at)!;
    });
  });

  /**
   * Everyone the service can see: the members of every department of the tree, and, reading
   * through an app, the members it sees by userid or by tag outside those departments.
   */
  allUsers(): Promise<WeComUser[]> {
    return (this.allUsersPromise ??= this.shared('allUsers', ['departments', 'members'], () =>
      this.tree().then(async (tree) => {
        const inTree = distinct(await this.loadMembers([...tree.all()].map((d) => d.id)));
        if (!this.source.outsideMembers) return inTree;
        const outside = await this.source.outsideMembers(new Set(inTree.map((u) => userKey(u.userid))));
        this.listed.push(outside);
        return [...inTree, ...outside];
      }),
    ));
  }

  /** Who reports to whom, derived from everyone's direct_leader. */
  async directReports(userid: string): Promise<WeComUser[]> {
    this.reportsPromise ??= this.shared('directReports', EVERYONE_VIEWS.directReports, () =>
      this.allUsers().then((users) => {
        const map = new Map<string, WeComUser[]>();
        for (const u of users) {
          for (const leader of u.directLeader) {
            let list = map.get(userKey(leader));
            if (!list) map.set(userKey(leader), (list = []));
            list.push(u);
          }
        }
        return map;
      }),
    );
    return (await this.reportsPromise).get(userKey(userid)) ?? [];
  }

  /** Tag ids by member and by department, from tag/list and one tag/get per tag. */
  tagIndex(): Promise<TagIndex> {
    const build = () =>
      this.tags().then(async (summaries) => {
        const tags = await this.tag.loadMany(summaries.map((t) => t.tagid));
        const index: TagIndex = { byUser: new Map(), byDepartment: new Map() };
        let complete = true;
        summaries.forEach((summary, i) => {
          const tag = tags[i];
          if (tag instanceof Error) complete = false;
          if (!tag || tag instanceof Error) return;
          for (const u of tag.userlist) push(index.byUser, userKey(u.userid), summary.tagid);
          for (const d of tag.partylist) push(index.byDepartment, d, summary.tagid);
        });
        return { index, complete };
      });
    // An index missing a tag that failed to load serves this request but is not shared.
    return (this.tagIndexPromise ??= this.shared('tagIndex', ['tags'], build, (r) => r.complete).then((r) => r.index));
  }

  searchIndex(): Promise<UserSearchIndex> {
    return (this.searchPromise ??= this.shared('searchIndex', EVERYONE_VIEWS.searchIndex, () =>
      this.allUsers().then((users) => UserSearchIndex.build(users)),
    ));
  }

  /** A view shared across requests when the source can memoise it (the directory cache), else built for this request. */
  private shared<T>(
    name: string,
    dependsOn: readonly DerivedDependency[],
    build: () => Promise<T>,
    keep?: (value: T) => boolean,
  ): Promise<T> {
    return this.source.derived ? this.source.derived(name, dependsOn, build, keep) : build();
  }

  private async loadMembers(ids: number[]): Promise<WeComUser[]> {
    const lists = await this.members.loadMany(ids);
    const out: WeComUser[] = [];
    for (const list of lists) {
      if (list instanceof Error) throw list;
      out.push(...list);
    }
    return out;
  }
}

export interface TagIndex {
  byUser: Map<string, number[]>;
  byDepartment: Map<number, number[]>;
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function distinct(users: WeComUser[]): WeComUser[] {
  const seen = new Set<string>();
  return users.filter((u) => {
    const key = userKey(u.userid);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
