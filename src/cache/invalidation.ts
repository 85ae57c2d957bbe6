import { userKey } from 'wecom-protocol/userid';
import type { DirectoryChange } from '../directory/changes.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { CacheRegistry } from './registry.ts';

/** The cache entries one change makes wrong. */
export interface InvalidationPlan {
  /** Drop everything (an import finished, or a change of unknown meaning). */
  everything: boolean;
  /** The department tree (department/list). */
  tree: boolean;
  /** The tag list (tag/list). */
  tagList: boolean;
  /** Member lists by department id, or all of them when the departments involved are unknown. */
  members: Set<number> | 'all';
  /** Single members (user/get), by lower-cased userid. */
  users: Set<string>;
  /** Tags (tag/get) by id. */
  tags: Set<number>;
  /** A member changed: views built from member lists (everyone, reports, search) are stale. */
  memberData: boolean;
  /** Member references may have moved (userid renamed, member deleted): in-flight single reads may be stale too. */
  references: boolean;
}

/** What the plan may look up in the cache. */
export interface CacheView {
  registry: CacheRegistry;
  /** The cached member (stale or not), undefined when not cached. */
  cachedUser(userKey: string): WeComUser | null | undefined;
}

const emptyPlan = (): InvalidationPlan => ({
  everything: false,
  tree: false,
  tagList: false,
  members: new Set(),
  users: new Set(),
  tags: new Set(),
  memberData: false,
  references: false,
});

/** Member fields that are mirrored in department/list (department_leader follows is_leader_in_dept). */
export const TREE_FIELDS = ['department', 'isLeaderInDept', 'userid'];
/** Member fields that tag/get shows (its userlist carries userid and name). */
export const TAG_FIELDS = ['name', 'userid'];

/**
 * Which entries a change touches, precisely:
 * - a member: that member; the member lists that hold it (found in the cache) and the lists of the
 *   departments it joins; all member lists when a new member's departments are unknown; the tree
 *   when its departments or leadership may have changed, or it led a department and was deleted or
 *   got a new userid (department_leader names it); tags that list it when its name
 *   or userid changed; after a delete or a userid change, the lists and members that name it as a
 *   direct leader (WeCom rewrites direct_leader without an event).
 * - a department: the tree; its own member list when created or deleted (it had none, or has none
 *   now); tags that list it when deleted. Member records carry department ids only, so no other
 *   member list changes.
 * - a tag: the tag list when a tag appears, is renamed or goes; that tag's members.
 */
export function planInvalidation(change: DirectoryChange, cache: CacheView): InvalidationPlan {
  const plan = emptyPlan();
  switch (change.kind) {
    case 'USER_CREATED':
    case 'USER_UPDATED':
    case 'USER_DELETED': {
      const ids = [change.userid, ...(change.newUserid ? [change.newUserid] : [])].map(userKey);
      const deleted = change.kind === 'USER_DELETED';
      const fields = change.changedFields;
      plan.memberData = true;
      for (const id of ids) plan.users.add(id);

      if (change.kind === 'USER_CREATED' && change.departmentIds === undefined) {
        plan.members = 'all';
      } else {
        const lists = new Set<number>(change.departmentIds ?? []);
        for (const id of ids) for (const d of cache.cachedUser(id)?.department ?? []) lists.add(d);
        for (const d of cache.registry.listsHolding(ids)) lists.add(d);
        plan.members = lists;
      }

      // WeCom drops a deleted member from others' direct_leader, and follows a userid change there.
      if (deleted || change.newUserid) {
        plan.references = true;
        if (plan.members !== 'all') for (const d of cache.registry.listsNamingLeader(ids)) plan.members.add(d);
        for (const report of cache.registry.reportsOf(ids)) plan.users.add(report);
      }

      // department_leader holds userids: a leader's rename leaves the tree as it was; a delete or
      // a userid change rewrites it, and a change of departments or leadership may.
      const leads = cache.registry.leadsDepartment(ids);
      plan.tree = deleted || change.newUserid ? leads : fields === undefined || fields.some((f) => TREE_FIELDS.includes(f));
      if (deleted || fields === undefined || fields.some((f) => TAG_FIELDS.includes(f))) {
        for (const t of cache.registry.tagsHoldingUsers(ids)) plan.tags.add(t);
      }
      return plan;
    }
    case 'DEPARTMENT_CREATED':
    case 'DEPARTMENT_UPDATED':
    case 'DEPARTMENT_DELETED': {
      plan.tree = true;
      if (change.kind !== 'DEPARTMENT_UPDATED') (plan.members as Set<number>).add(change.departmentId);
      if (change.kind === 'DEPARTMENT_DELETED') {
        for (const t of cache.registry.tagsHoldingDepartment(change.departmentId)) plan.tags.add(t);
      }
      return plan;
    }
    case 'TAG_CREATED':
      plan.tagList = true;
      return plan;
    case 'TAG_UPDATED':
    case 'TAG_DELETED':
      plan.tagList = true;
      plan.tags.add(change.tagId);
      return plan;
    case 'TAG_MEMBERS_CHANGED':
      plan.tags.add(change.tagId);
      // A tag the cached list does not know was created without an event reaching us.
      plan.tagList = !cache.registry.tagListed(change.tagId);
      return plan;
    case 'DIRECTORY_RELOADED':
      plan.everything = true;
      return plan;
  }
}
