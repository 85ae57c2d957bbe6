import DataLoader from 'dataloader';
import type { WeComClient } from '../wecom/client.ts';
import type { LinkedUser } from '../wecom/linked-corp.ts';
import { nullWhenMissing } from '../directory/source.ts';
import { WeComApiError } from '../wecom/errors.ts';

/** A linked corp's department with its full id `LINKEDID/DEPARTMENTID`. */
export interface LinkedDept {
  id: string;
  linkedId: string;
  name: string;
  /** Full id of the parent, or null at the top of what the app may see. */
  parentId: string | null;
  order: number;
}

/** A linked member with its full id `CORPID/USERID`. */
export type LinkedMember = LinkedUser & { id: string };

export interface LinkGroup {
  linkedId: string;
  /** The departments the app was granted (tops of its visible range in this link group). */
  granted: LinkedDept[];
  byId: Map<string, LinkedDept>;
  children: Map<string, LinkedDept[]>;
}

/** `CORPID/USERID`: linked-corp user lists give the bare userid and the corpid apart. */
export const linkedUserId = (u: LinkedUser) => (u.userid.includes('/') ? u.userid : `${u.corpid}/${u.userid}`);

/**
 * Per-request reads of linked corps (互联企业): the app's grant from one get_perm_list, each granted
 * department's subtree from one linkedcorp/department/list, members from linkedcorp/user/list.
 */
export class LinkedLoaders {
  private groupsPromise?: Promise<LinkGroup[]>;

  constructor(private readonly client: WeComClient) {}

  readonly members = new DataLoader<string, LinkedMember[], string>(async (keys) =>
    Promise.all(
      keys.map(async (key) => {
        const [departmentId, recursive] = [key.slice(2), key.startsWith('r:')];
        const users = await this.client.linkedCorp.listUsers(departmentId, { fetchChild: recursive });
        return users.map((u) => ({ ...u, id: linkedUserId(u) }));
      }),
    ).catch((err: unknown) => keys.map(() => (err instanceof Error ? err : new Error(String(err))))),
  );

  readonly user = new DataLoader<string, LinkedMember | null>((ids) =>
    Promise.all(
      ids.map(async (id) => {
        const user = await nullWhenMissing(this.client.linkedCorp.getUser(id)).catch(notVisibleAsNull);
        return user ? { ...user, id: linkedUserId(user) } : null;
      }),
    ),
  );

  groups(): Promise<LinkGroup[]> {
    return (this.groupsPromise ??= this.loadGroups());
  }

  async department(id: string): Promise<LinkedDept | null> {
    for (const group of await this.groups()) {
      const dept = group.byId.get(id);
      if (dept) return dept;
    }
    return null;
  }

  private async loadGroups(): Promise<LinkGroup[]> {
    const perms = await this.client.linkedCorp.getPermList();
    const groups = new Map<string, LinkGroup>();
    const lists = await Promise.all(
      perms.departmentIds.map(async (granted) => ({ granted, list: await this.client.linkedCorp.listDepartments(granted) })),
    );
    for (const { granted, list } of lists) {
      const linkedId = granted.slice(0, granted.lastIndexOf('/'));
      let group = groups.get(linkedId);
      if (!group) groups.set(linkedId, (group = { linkedId, granted: [], byId: new Map(), children: new Map() }));
      const ids = new Set(list.map((d) => d.departmentId));
      for (const d of list) {
        const dept: LinkedDept = {
          id: `${linkedId}/${d.departmentId}`,
          linkedId,
          name: d.departmentName,
          parentId: ids.has(d.parentid) ? `${linkedId}/${d.parentid}` : null,
          order: d.order,
        };
        group.byId.set(dept.id, dept);
      }
      const top = group.byId.get(granted);
      if (top) group.granted.push(top);
    }
    for (const group of groups.values()) {
      for (const dept of group.byId.values()) {
        if (!dept.parentId) continue;
        const siblings = group.children.get(dept.parentId) ?? [];
        siblings.push(dept);
        group.children.set(dept.parentId, siblings);
      }
      for (const list of group.children.values()) list.sort((a, b) => b.order - a.order);
    }
    return [...groups.values()];
  }
}

/** 60011 from linked-corp reads: the member exists but is outside the app's linked range. */
function notVisibleAsNull(err: unknown): null {
  if (err instanceof WeComApiError && err.errcode === 60011) return null;
  throw err;
}
