import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';

/**
 * The sizes of the corp as the directory cache knows them, for estimating what a query will
 * cost before it runs (cost.ts): the tree (children, subtrees, depths), members per department
 * (from cached member lists), memberships and leaders per member. Nothing here reads upstream:
 * a department whose member list is not cached is assumed to hold the average of those that are.
 */

/** What the estimate may look at in the directory cache without reading upstream. */
export interface DirectoryPeek {
  /** The cached department tree, expired included; undefined when not cached. */
  peekDepartments(): readonly WeComDepartment[] | undefined;
  /** A department's cached direct members; undefined when not cached. */
  peekMembers(departmentId: number): readonly WeComUser[] | undefined;
  /** A cached member: the record, null when WeCom said it does not exist, undefined when unknown. */
  peekUser(userid: string): WeComUser | null | undefined;
  /** How many member lists are cached: more lists make the sizes more exact. */
  readonly cachedMemberListCount: number;
  /** Bumped by every change: sizes computed before may be wrong after. */
  readonly generation: number;
}

/**
 * Member changes (callbacks, writes, lists loaded by warm-up) rebuild the sizes at most this
 * often: a rebuild reads every cached list (about 35 ms for 50,000 members), and an estimate a
 * second behind a member change is still an estimate of the same corp. A tree change rebuilds at once.
 */
export const SIZES_REBUILD_INTERVAL_MS = 1_000;

/** Members assumed in a department when no member list of the corp is cached yet. */
export const ASSUMED_MEMBERS_PER_DEPARTMENT = 20;

export class CorpSizes {
  readonly departmentCount: number;
  /** Direct members summed over every department (a member in two departments counts twice). */
  readonly memberships: number;
  /** Distinct members: exact when every member list is cached, else estimated. */
  readonly members: number;
  readonly membershipsPerMember: number;
  readonly leadersPerMember: number;
  /** The average over all departments of the descendants, ancestors and children each has. */
  readonly averageDescendants: number;
  readonly averageDepth: number;
  readonly averageRecursiveMembers: number;
  readonly averageLeaders: number;
  private readonly byId = new Map<number, WeComDepartment>();
  private readonly childrenOf = new Map<number, number[]>();
  private readonly direct = new Map<number, number>();
  private readonly recursive = new Map<number, number>();
  private readonly subtreeSize = new Map<number, number>();
  private readonly depthOf = new Map<number, number>();

  constructor(departments: readonly WeComDepartment[], membersOf: (id: number) => readonly WeComUser[] | undefined) {
    for (const d of departments) this.byId.set(d.id, d);
    const roots: number[] = [];
    for (const d of departments) {
      if (this.byId.has(d.parentid) && d.parentid !== d.id) {
        const list = this.childrenOf.get(d.parentid);
        if (list) list.push(d.id);
        else this.childrenOf.set(d.parentid, [d.id]);
      } else roots.push(d.id);
    }
    this.departmentCount = departments.length;

    let known = 0;
    let knownMemberships = 0;
    let leaders = 0;
    const distinct = new Set<string>();
    for (const d of departments) {
      const list = membersOf(d.id);
      if (!list) continue;
      known++;
      knownMemberships += list.length;
      for (const u of list) {
        if (distinct.has(u.userid)) continue;
        distinct.add(u.userid);
        leaders += u.directLeader.length;
      }
    }
    const assumed = known > 0 ? knownMemberships / known : ASSUMED_MEMBERS_PER_DEPARTMENT;
    for (const d of departments) this.direct.set(d.id, membersOf(d.id)?.length ?? assumed);
    this.membershipsPerMember = distinct.size > 0 ? knownMemberships / distinct.size : 1;
    this.leadersPerMember = distinct.size > 0 ? leaders / distinct.size : 1;
    this.memberships = known === departments.length ? knownMemberships : assumed * departments.length;
    this.members = known === departments.length ? distinct.size : Math.ceil(this.memberships / this.membershipsPerMember);

    // Iterative post-order: trees of a few thousand levels must not overflow the stack.
    const order: number[] = [];
    const stack: [number, number][] = roots.map((id) => [id, 0]);
    while (stack.length) {
      const [id, depth] = stack.pop()!;
      if (this.depthOf.has(id)) continue; // a cycle in a corrupt tree is not followed twice
      this.depthOf.set(id, depth);
      order.push(id);
      for (const c of this.childrenOf.get(id) ?? []) stack.push([c, depth + 1]);
    }
    let descendants = 0;
    let depths = 0;
    let recursiveSum = 0;
    let leaderSum = 0;
    for (let i = order.length - 1; i >= 0; i--) {
      const id = order[i]!;
      let size = 1;
      let rec = this.direct.get(id) ?? 0;
      for (const c of this.childrenOf.get(id) ?? []) {
        size += this.subtreeSize.get(c) ?? 0;
        rec += this.recursive.get(c) ?? 0;
      }
      this.subtreeSize.set(id, size);
      this.recursive.set(id, rec);
      descendants += size - 1;
      depths += this.depthOf.get(id) ?? 0;
      recursiveSum += rec;
      leaderSum += this.byId.get(id)?.departmentLeader.length ?? 0;
    }
    const n = Math.max(1, order.length);
    this.averageDescendants = descendants / n;
    this.averageDepth = depths / n;
    this.averageRecursiveMembers = recursiveSum / n;
    this.averageLeaders = leaderSum / n;
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  children(id: number): readonly number[] {
    return this.childrenOf.get(id) ?? [];
  }

  parent(id: number): number | undefined {
    const p = this.byId.get(id)?.parentid;
    return p !== undefined && this.byId.has(p) ? p : undefined;
  }

  /** Members directly in the department (known, or the average of the known). */
  directMembers(id: number): number {
    return this.direct.get(id) ?? 0;
  }

  /** Members of the department and every department below it (a member of two counts twice). */
  recursiveMembers(id: number): number {
    return this.recursive.get(id) ?? 0;
  }

  leaders(id: number): number {
    return this.byId.get(id)?.departmentLeader.length ?? 0;
  }

  depth(id: number): number {
    return this.depthOf.get(id) ?? 0;
  }

  /** The department and all below it, up to `maxDepth` levels below (all when undefined). */
  subtree(id: number, maxDepth?: number): number[] {
    if (!this.byId.has(id)) return [];
    const out: number[] = [];
    const stack: [number, number][] = [[id, 0]];
    while (stack.length) {
      const [d, level] = stack.pop()!;
      out.push(d);
      if (maxDepth !== undefined && level >= maxDepth) continue;
      for (const c of this.childrenOf.get(d) ?? []) stack.push([c, level + 1]);
    }
    return out;
  }

  descendantCount(id: number): number {
    return (this.subtreeSize.get(id) ?? 1) - 1;
  }

  ids(): IterableIterator<number> {
    return this.byId.keys();
  }
}

/** The corp's sizes from the directory cache, rebuilt when the tree changes and at most once a second for member changes. */
export class CorpSizesCache {
  private last?: { departments: readonly WeComDepartment[]; generation: number; cachedLists: number; builtAt: number; sizes: CorpSizes };

  constructor(
    private readonly peek: DirectoryPeek,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** The sizes, or undefined when the tree is not cached (the estimate then falls back to assumptions). */
  current(): CorpSizes | undefined {
    const departments = this.peek.peekDepartments();
    if (!departments) return undefined;
    const generation = this.peek.generation;
    const cachedLists = this.peek.cachedMemberListCount;
    const now = this.clock();
    const last = this.last;
    if (last && last.departments === departments) {
      const unchanged = last.generation === generation && last.cachedLists === cachedLists;
      if (unchanged || now - last.builtAt < SIZES_REBUILD_INTERVAL_MS) return last.sizes;
    }
    const sizes = new CorpSizes(departments, (id) => this.peek.peekMembers(id));
    this.last = { departments, generation, cachedLists, builtAt: now, sizes };
    return sizes;
  }
}
