import { userKey } from 'wecom-protocol/userid';
import type { DirectoryChange } from '../directory/changes.ts';
import type { EntryKind } from './entries.ts';
import { TAG_FIELDS, TREE_FIELDS } from './invalidation.ts';

/**
 * What a change makes wrong in the store the fleet shares (src/redis/directory-store.ts),
 * expressed as versions to bump: a single entry (`key`), every entry of a kind (`group`), or
 * everything (`all`). The local plan (invalidation.ts) finds member lists, reports and tags
 * through reverse indexes of what this process holds; the shared store holds what any instance
 * loaded, so where the local plan consults its indexes this plan is either looked up in the
 * store's own member index (`usersInLists`: the lists holding these members) or coarser (a whole
 * group). Coarse only for rare events: a member deleted or given a new userid, a department deleted.
 */
export interface SharedInvalidation {
  all: boolean;
  groups: Set<EntryKind>;
  /** Single entries: `departments`, `tags`, `members:<departmentId>`, `user:<userKey>`, `tag:<tagId>`. */
  keys: Set<string>;
  /** Members whose member lists (per the store's index of member → departments) are wrong too. */
  usersInLists: Set<string>;
}

export function planSharedInvalidation(change: DirectoryChange): SharedInvalidation {
  const plan: SharedInvalidation = { all: false, groups: new Set(), keys: new Set(), usersInLists: new Set() };
  switch (change.kind) {
    case 'USER_CREATED':
    case 'USER_UPDATED':
    case 'USER_DELETED': {
      const ids = [change.userid, ...(change.newUserid ? [change.newUserid] : [])].map(userKey);
      const fields = change.changedFields;
      const movedReferences = change.kind === 'USER_DELETED' || change.newUserid !== undefined;
      for (const id of ids) {
        plan.keys.add(`user:${id}`);
        plan.usersInLists.add(id);
      }
      for (const d of change.departmentIds ?? []) plan.keys.add(`members:${d}`);
      if (change.kind === 'USER_CREATED' && change.departmentIds === undefined) plan.groups.add('members');
      if (movedReferences) {
        // WeCom rewrites others' direct_leader (and department_leader) without an event: the
        // lists and members naming this one are not indexed, so all of them go.
        plan.groups.add('members');
        plan.groups.add('user');
        plan.keys.add('departments');
      } else if (fields === undefined || fields.some((f) => TREE_FIELDS.includes(f))) {
        plan.keys.add('departments');
      }
      if (movedReferences || fields === undefined || fields.some((f) => TAG_FIELDS.includes(f))) plan.groups.add('tag');
      return plan;
    }
    case 'DEPARTMENT_CREATED':
    case 'DEPARTMENT_UPDATED':
    case 'DEPARTMENT_DELETED':
      plan.keys.add('departments');
      if (change.kind !== 'DEPARTMENT_UPDATED') plan.keys.add(`members:${change.departmentId}`);
      if (change.kind === 'DEPARTMENT_DELETED') plan.groups.add('tag');
      return plan;
    case 'TAG_CREATED':
    case 'TAG_UPDATED':
    case 'TAG_DELETED':
    case 'TAG_MEMBERS_CHANGED':
      // The tag list too: a tag the fleet never saw created may be named here first.
      plan.keys.add('tags');
      if (change.kind !== 'TAG_CREATED') plan.keys.add(`tag:${change.tagId}`);
      return plan;
    case 'DIRECTORY_RELOADED':
      plan.all = true;
      return plan;
  }
}
