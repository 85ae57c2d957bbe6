import type { WeComDepartment } from '../wecom/departments.ts';

/**
 * The department tree built from one `department/list`: lookups by id, children in WeCom's order
 * (larger `order` first), ancestors and descendants without further upstream calls.
 */
export class DepartmentTree {
  private readonly byId = new Map<number, WeComDepartment>();
  private readonly childrenOf = new Map<number, WeComDepartment[]>();
  /** Departments whose parent is not in the tree (the root, or the tops of an app's visibility). */
  readonly roots: WeComDepartment[] = [];

  constructor(departments: readonly WeComDepartment[]) {
    for (const d of departments) this.byId.set(d.id, d);
    // department/list lists siblings in WeCom's order already; a stable sort keeps that order
    // for equal `order` values (WeCom breaks ties by creation time, which we cannot see).
    for (const d of departments) {
      if (this.byId.has(d.parentid) && d.parentid !== d.id) {
        let list = this.childrenOf.get(d.parentid);
        if (!list) this.childrenOf.set(d.parentid, (list = []));
        list.push(d);
      } else {
        this.roots.push(d);
      }
    }
    for (const list of this.childrenOf.values()) list.sort((a, b) => b.order - a.order);
    this.roots.sort((a, b) => b.order - a.order);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: number): WeComDepartment | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<WeComDepartment> {
    return this.byId.values();
  }

  children(id: number): readonly WeComDepartment[] {
    return this.childrenOf.get(id) ?? [];
  }

  parent(id: number): WeComDepartment | undefined {
    const d = this.byId.get(id);
    return d ? this.byId.get(d.parentid) : undefined;
  }

  /** From the top of the tree down to the department's parent. */
  ancestors(id: number): WeComDepartment[] {
    const out: WeComDepartment[] = [];
    const seen = new Set<number>([id]);
    for (let p = this.parent(id); p && !seen.has(p.id); p = this.parent(p.id)) {
      seen.add(p.id);
      out.push(p);
    }
    return out.reverse();
  }

  /** 1 for a top department (the root), as WeCom counts levels (at most 15). */
  depth(id: number): number {
    return this.ancestors(id).length + 1;
  }

  /**
   * The department's descendants, breadth first, down to `maxDepth` levels below it
   * (unbounded when undefined). The department itself is not included.
   */
  descendants(id: number, maxDepth?: number): WeComDepartment[] {
    const out: WeComDepartment[] = [];
    let level: readonly WeComDepartment[] = this.children(id);
    for (let depth = 1; level.length && (maxDepth === undefined || depth <= maxDepth); depth++) {
      out.push(...level);
      level = level.flatMap((d) => this.children(d.id));
    }
    return out;
  }

  /** The department and all its descendants' ids. */
  subtreeIds(id: number): number[] {
    return this.byId.has(id) ? [id, ...this.descendants(id).map((d) => d.id)] : [];
  }

  /** True when `id` is `ancestorId` or below it. */
  isWithin(id: number, ancestorId: number): boolean {
    if (id === ancestorId) return this.byId.has(id);
    return this.ancestors(id).some((a) => a.id === ancestorId);
  }
}
