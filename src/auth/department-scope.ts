import { userKey } from 'wecom-protocol/userid';
import type { DerivedDependency, DirectorySource } from '../directory/source.ts';
import { DepartmentTree } from '../directory/tree.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComTag, WeComTagSummary } from '../wecom/tags.ts';
import type { WeComUser } from '../wecom/users.ts';

/** The name a caller's department subtrees give the views it shares (derived views are named `<view>|<key>`). */
export function scopeKey(roots: readonly number[]): string {
  return `departments:${[...roots].sort((a, b) => a - b).join(',')}`;
}

/**
 * A caller limited to department subtrees (an API key's `departments`, a JWT's `departments`
 * claim) sees only those departments, everything below them, and their members: everywhere in
 * the graph, because every directory read of a request goes through `source()`, which the
 * request's loaders read from (schema/context.ts). One instance per request (and per refresh of
 * its loaders), so that what it memoises never outlives what the request may see.
 *
 * - departments: only the subtrees (their tops become the roots of the caller's tree);
 * - members: a member is visible when one of their departments is; their department list (with
 *   orders, head flags and main department) is cut to the visible departments;
 * - tags: visible when they list a visible department or member, with only those listed;
 * - derived views (everyone, search index, direct reports, tag index) are shared across requests
 *   under a name that includes the subtrees, never with callers who see more or less.
 */
export class DepartmentScope {
  /** The subtrees, as a stable key: the same limits share derived views. */
  readonly key: string;
  private listPromise?: Promise<WeComDepartment[]>;
  private allowedPromise?: Promise<ReadonlySet<number>>;
  private allowedUsersPromise?: Promise<ReadonlySet<string>>;
  private readonly memberLists = new Map<number, Promise<WeComUser[]>>();

  constructor(
    private readonly inner: DirectorySource,
    readonly roots: readonly number[],
  ) {
    this.key = scopeKey(roots);
  }

  /** The whole corp's tree (what the service sees), for deciding what is inside. */
  async fullTree(): Promise<DepartmentTree> {
    return new DepartmentTree(await this.list());
  }

  /** Ids of every department of the subtrees that exists now. */
  allowedDepartments(): Promise<ReadonlySet<number>> {
    return (this.allowedPromise ??= this.shared(`allowedDepartments|${this.key}`, ['departments'], async () => {
      const tree = new DepartmentTree(await this.list());
      const ids = new Set<number>();
      for (const root of this.roots) for (const id of tree.subtreeIds(root)) ids.add(id);
      return ids;
    }));
  }

  async allowsDepartment(id: number): Promise<boolean> {
    return (await this.allowedDepartments()).has(id);
  }

  /** Lower-cased userids of everyone in the subtrees. */
  allowedUsers(): Promise<ReadonlySet<string>> {
    return (this.allowedUsersPromise ??= this.shared(`allowedUsers|${this.key}`, ['departments', 'members'], async () => {
      const ids = [...(await this.allowedDepartments())];
      const lists = await Promise.all(ids.map((id) => this.membersOf(id)));
      return new Set(lists.flat().map((u) => userKey(u.userid)));
    }));
  }

  /** True when every department of the member (as WeCom has it, unrestricted) is inside: the member is the caller's to change. */
  async ownsUser(user: WeComUser): Promise<boolean> {
    const allowed = await this.allowedDepartments();
    return user.department.length > 0 && user.department.every((d) => allowed.has(d));
  }

  /** ownsUser for a userid, read unrestricted; false when WeCom has no such member. */
  async ownsUserid(userid: string): Promise<boolean> {
    const user = await this.inner.user(userid);
    return user ? this.ownsUser(user) : false;
  }

  /** The member as this caller sees them: only visible departments; null when none is. */
  restrictUser(user: WeComUser, allowed: ReadonlySet<number>): WeComUser | null {
    const keep: number[] = [];
    user.department.forEach((d, i) => {
      if (allowed.has(d)) keep.push(i);
    });
    if (keep.length === 0) return null;
    if (keep.length === user.department.length) return user;
    // A copy: the record may be shared with other requests through the directory cache.
    const department = keep.map((i) => user.department[i]!);
    return {
      ...user,
      department,
      order: keep.map((i) => user.order[i] ?? 0),
      isLeaderInDept: keep.map((i) => user.isLeaderInDept[i] ?? 0),
      mainDepartment: user.mainDepartment !== undefined && allowed.has(user.mainDepartment) ? user.mainDepartment : department[0],
    };
  }

  /** The tag as this caller sees it (visible departments and members only); null when it lists nothing visible. */
  async restrictTag(tag: WeComTag): Promise<WeComTag | null> {
    const [allowed, users] = await Promise.all([this.allowedDepartments(), this.allowedUsers()]);
    const partylist = tag.partylist.filter((d) => allowed.has(d));
    const userlist = tag.userlist.filter((u) => users.has(userKey(u.userid)));
    return partylist.length || userlist.length ? { ...tag, partylist, userlist } : null;
  }

  /** What the request's loaders read from. */
  source(): DirectorySource {
    const scope = this;
    const inner = this.inner;
    return {
      async departments() {
        const [list, allowed] = await Promise.all([scope.list(), scope.allowedDepartments()]);
        return list.filter((d) => allowed.has(d.id));
      },
      async members(departmentId) {
        const allowed = await scope.allowedDepartments();
        // Outside the subtrees: no upstream call, nothing to see.
        if (!allowed.has(departmentId)) return [];
        return (await scope.membersOf(departmentId)).flatMap((u) => scope.restrictUser(u, allowed) ?? []);
      },
      async user(userid) {
        const [user, allowed] = await Promise.all([inner.user(userid), scope.allowedDepartments()]);
        return user ? scope.restrictUser(user, allowed) : null;
      },
      async tags() {
        const summaries = await inner.tags();
        const visible = await Promise.all(summaries.map(async (t) => (await this.tag(t.tagid)) !== null));
        return summaries.filter((_t: WeComTagSummary, i) => visible[i]);
      },
      async tag(tagid) {
        const tag = await inner.tag(tagid);
        return tag ? scope.restrictTag(tag) : null;
      },
      ...(inner.derived
        ? {
            derived<T>(name: string, dependsOn: readonly DerivedDependency[], build: () => Promise<T>, keep?: (value: T) => boolean) {
              return inner.derived!(`${name}|${scope.key}`, dependsOn, build, keep);
            },
          }
        : {}),
    };
  }

  private list(): Promise<WeComDepartment[]> {
    return (this.listPromise ??= this.inner.departments());
  }

  /** One upstream read per department per request, shared by the loaders and allowedUsers. */
  private membersOf(departmentId: number): Promise<WeComUser[]> {
    let list = this.memberLists.get(departmentId);
    if (!list) this.memberLists.set(departmentId, (list = this.inner.members(departmentId)));
    return list;
  }

  private shared<T>(name: string, dependsOn: readonly DerivedDependency[], build: () => Promise<T>): Promise<T> {
    return this.inner.derived ? this.inner.derived(name, dependsOn, build) : build();
  }
}
