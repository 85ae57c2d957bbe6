import { userKey } from 'wecom-protocol/userid';
import type { App, Department, Tag, User } from './model.ts';
import { ROOT_DEPARTMENT_ID } from 'wecom-protocol/limits';

/** Userids are case-insensitive in WeCom: every index is keyed by the lower-cased userid. */

/**
 * One corp's directory with the indexes the endpoints need: members by department, children by
 * department, and unique mobile / email / biz_mail. All writes go through these methods so the
 * indexes never drift from the records.
 */
export class CorpStore {
  readonly departments = new Map<number, Department>();
  readonly users = new Map<string, User>();
  readonly tags = new Map<number, Tag>();
  readonly apps: App[] = [];

  private readonly children = new Map<number, Set<number>>();
  private readonly members = new Map<number, Set<string>>();
  private readonly byMobile = new Map<string, string>();
  private readonly byEmail = new Map<string, string>();
  private readonly byBizMail = new Map<string, string>();
  private readonly byOpenid = new Map<string, string>();
  private seq = 0;
  /** Bumped on every write, so derived views (app visibility) know when to recompute. */
  version = 0;

  constructor(
    readonly corpId: string,
    readonly contactSecret: string,
    readonly corpName: string,
  ) {}

  nextSeq(): number {
    return ++this.seq;
  }

  /** Marks a write that went around the methods below (tag membership edits). */
  touch(): void {
    this.version++;
  }

  // ── departments ────────────────────────────────────────────────────────────

  getDepartment(id: number): Department | undefined {
    return this.departments.get(id);
  }

  putDepartment(dept: Department): void {
    this.version++;
    const previous = this.departments.get(dept.id);
    if (previous && previous.parentid !== dept.parentid) {
      this.children.get(previous.parentid)?.delete(dept.id);
    }
    this.departments.set(dept.id, dept);
    if (dept.id !== ROOT_DEPARTMENT_ID || dept.parentid !== 0) {
      let set = this.children.get(dept.parentid);
      if (!set) this.children.set(dept.parentid, (set = new Set()));
      set.add(dept.id);
    }
  }

  removeDepartment(id: number): void {
    this.version++;
    const dept = this.departments.get(id);
    if (!dept) return;
    this.children.get(dept.parentid)?.delete(id);
    this.children.delete(id);
    this.members.delete(id);
    this.departments.delete(id);
  }

  childIds(id: number): number[] {
    return [...(this.children.get(id) ?? [])];
  }

  /** Children sorted as WeCom lists them: larger `order` first, then creation order. */
  sortedChildren(id: number): Department[] {
    return this.childIds(id)
      .map((c) => this.departments.get(c)!)
      .sort(byOrderThenSeq);
  }

  /** The department and all its descendants, parents before children, siblings in list order. */
  subtree(id: number): Department[] {
    const root = this.departments.get(id);
    if (!root) return [];
    const out: Department[] = [root];
    for (let i = 0; i < out.length; i++) out.push(...this.sortedChildren(out[i]!.id));
    return out;
  }

  /** 1 for the root department. */
  depth(id: number): number {
    let d = 0;
    for (let cur = this.departments.get(id); cur; cur = this.departments.get(cur.parentid)) d++;
    return d;
  }

  /** Levels below `id`, counting `id` itself as 1 (a leaf has height 1). */
  height(id: number): number {
    const kids = this.childIds(id);
    return 1 + (kids.length ? Math.max(...kids.map((k) => this.height(k))) : 0);
  }

  /** True when `ancestor` is `id` itself or one of its ancestors. */
  isSelfOrAncestor(ancestor: number, id: number): boolean {
    for (let cur = this.departments.get(id); cur; cur = this.departments.get(cur.parentid)) {
      if (cur.id === ancestor) return true;
    }
    return false;
  }

  memberCount(deptId: number): number {
    return this.members.get(deptId)?.size ?? 0;
  }

  /** Sub-departments plus members directly under a department (the 30,000-node limit). */
  childNodeCount(deptId: number): number {
    return (this.children.get(deptId)?.size ?? 0) + this.memberCount(deptId);
  }

  // ── users ──────────────────────────────────────────────────────────────────

  getUser(userid: string): User | undefined {
    return this.users.get(userKey(userid));
  }

  userByMobile(mobile: string): User | undefined {
    const key = this.byMobile.get(normaliseMobile(mobile));
    return key ? this.users.get(key) : undefined;
  }

  userByEmail(email: string): User | undefined {
    const key = this.byEmail.get(email.toLowerCase());
    return key ? this.users.get(key) : undefined;
  }

  userByBizMail(bizMail: string): User | undefined {
    const key = this.byBizMail.get(bizMail.toLowerCase());
    return key ? this.users.get(key) : undefined;
  }

  userByOpenid(openid: string): User | undefined {
    const key = this.byOpenid.get(openid);
    return key ? this.users.get(key) : undefined;
  }

  /**
   * Inserts or replaces a member. `previousUserid` names the record being replaced when the
   * userid itself changes (new_userid).
   */
  putUser(user: User, previousUserid: string = user.userid): void {
    this.version++;
    const oldKey = userKey(previousUserid);
    const newKey = userKey(user.userid);
    const old = this.users.get(oldKey);
    if (old) this.unindexUser(old);
    if (oldKey !== newKey) {
      // new_userid: the record moves to its new key, and so do its tag memberships.
      this.users.delete(oldKey);
      for (const tag of this.tags.values()) {
        if (tag.users.delete(oldKey)) tag.users.add(newKey);
      }
    }
    this.users.set(newKey, user);
    this.indexUser(user);
  }

  removeUser(userid: string): User | undefined {
    this.version++;
    const user = this.users.get(userKey(userid));
    if (!user) return undefined;
    this.unindexUser(user);
    this.users.delete(userKey(userid));
    for (const tag of this.tags.values()) tag.users.delete(userKey(userid));
    return user;
  }

  /** Members directly in a department, in WeCom's order for that department. */
  membersOf(deptId: number): User[] {
    const keys = this.members.get(deptId);
    if (!keys) return [];
    const users = [...keys].map((k) => this.users.get(k)!);
    const orderIn = (u: User) => u.order[u.department.indexOf(deptId)] ?? 0;
    return users.sort((a, b) => orderIn(b) - orderIn(a) || a.created_seq - b.created_seq);
  }

  /** Members of a department and all its descendants, each once. */
  membersOfSubtree(deptId: number): User[] {
    const seen = new Set<string>();
    const out: User[] = [];
    for (const dept of this.subtree(deptId)) {
      for (const u of this.membersOf(dept.id)) {
        const key = userKey(u.userid);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(u);
        }
      }
    }
    return out;
  }

  private indexUser(user: User): void {
    const key = userKey(user.userid);
    for (const d of user.department) {
      let set = this.members.get(d);
      if (!set) this.members.set(d, (set = new Set()));
      set.add(key);
    }
    if (user.mobile) this.byMobile.set(normaliseMobile(user.mobile), key);
    if (user.email) this.byEmail.set(user.email.toLowerCase(), key);
    if (user.biz_mail) this.byBizMail.set(user.biz_mail.toLowerCase(), key);
    if (user.openid) this.byOpenid.set(user.openid, key);
  }

  private unindexUser(user: User): void {
    const key = userKey(user.userid);
    for (const d of user.department) this.members.get(d)?.delete(key);
    if (user.mobile) this.byMobile.delete(normaliseMobile(user.mobile));
    if (user.email) this.byEmail.delete(user.email.toLowerCase());
    if (user.biz_mail) this.byBizMail.delete(user.biz_mail.toLowerCase());
    if (user.openid) this.byOpenid.delete(user.openid);
  }

  // ── apps ───────────────────────────────────────────────────────────────────

  app(agentId: number): App | undefined {
    return this.apps.find((a) => a.agentId === agentId);
  }
}

/** "+86 13800000000" and "13800000000" are the same phone for uniqueness and lookup. */
export function normaliseMobile(mobile: string): string {
  const digits = mobile.replace(/[^0-9+]/g, '');
  return digits.startsWith('+86') ? digits.slice(3) : digits;
}

export function byOrderThenSeq(a: { order: number; created_seq: number }, b: { order: number; created_seq: number }): number {
  return b.order - a.order || a.created_seq - b.created_seq;
}
