/**
 * Directory changes as one typed stream. The service's own mutations and WeCom's change_contact
 * callbacks publish here; the directory cache (invalidation), the subscriptions and the change
 * feed listen. One mechanism, whichever side the change came from.
 */

/** Where a change was learned. */
export type ChangeSource = 'mutation' | 'callback' | 'import';

export type DirectoryChange =
  | {
      kind: 'USER_CREATED' | 'USER_UPDATED' | 'USER_DELETED';
      userid: string;
      /** Set when the userid itself changed (new_userid). */
      newUserid?: string;
      /**
       * Departments the member was or is in, when known (their member lists are affected). On
       * USER_UPDATED, absent means the member's departments did not change (WeCom's update_user
       * carries `Department` only when it changed); the cache finds the lists that hold the member.
       */
      departmentIds?: number[];
      /**
       * The member's fields that changed, named as on `WeComUser` (`name`, `department`,
       * `isLeaderInDept`, `directLeader`, `userid`, …); absent when not known (WeCom's reduced
       * post-2022 callbacks, or a publisher that does not say).
       */
      changedFields?: string[];
      source: ChangeSource;
    }
  | {
      kind: 'DEPARTMENT_CREATED' | 'DEPARTMENT_UPDATED' | 'DEPARTMENT_DELETED';
      departmentId: number;
      parentId?: number;
      /** The department's fields that changed, named as on `WeComDepartment` (`name`, `parentid`, `order`); absent when not known. */
      changedFields?: string[];
      source: ChangeSource;
    }
  | {
      kind: 'TAG_CREATED' | 'TAG_UPDATED' | 'TAG_DELETED' | 'TAG_MEMBERS_CHANGED';
      tagId: number;
      addedUserids?: string[];
      removedUserids?: string[];
      addedDepartmentIds?: number[];
      removedDepartmentIds?: number[];
      source: ChangeSource;
    }
  /** Many changes at once (an import finished): everything may have changed. */
  | { kind: 'DIRECTORY_RELOADED'; source: ChangeSource };

export type ChangeKind = DirectoryChange['kind'];

/** Every kind of change, in one list (the GraphQL enum and the Redis bridge's check use it). */
export const CHANGE_KINDS = [
  'USER_CREATED',
  'USER_UPDATED',
  'USER_DELETED',
  'DEPARTMENT_CREATED',
  'DEPARTMENT_UPDATED',
  'DEPARTMENT_DELETED',
  'TAG_CREATED',
  'TAG_UPDATED',
  'TAG_DELETED',
  'TAG_MEMBERS_CHANGED',
  'DIRECTORY_RELOADED',
] as const satisfies readonly ChangeKind[];
export type ChangeListener = (change: DirectoryChange) => void;

/** In-process fan-out; listeners run synchronously in subscription order (cache first). */
export class ChangeBus {
  private readonly listeners = new Set<ChangeListener>();

  publish(change: DirectoryChange): void {
    for (const listener of this.listeners) listener(change);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
