import { userKey } from 'wecom-protocol/userid';
import type { GraphQLContext } from './context.ts';
import type { DirectoryChange } from '../directory/changes.ts';
import type { ChangePage, RecordedChange } from '../directory/change-feed.ts';

/**
 * The change feed (directoryChanges, contactChanged) for a caller limited to department
 * subtrees: only changes about what that caller can see, with the departments and members they
 * name cut to the visible ones. What is visible is read fresh for each page and each live event
 * (a subscription lives long; the tree it started with may be out of date).
 *
 * A change is shown when:
 * - a department change names a visible department (or, for one created or moved, a visible parent);
 * - a member change names a visible department, or the member is visible now;
 * - a tag change's members or departments include visible ones (only those are listed), or the
 *   tag is visible now (created or renamed);
 * - DIRECTORY_RELOADED: always (it names nothing).
 * Deletions that name nothing visible (a member or department that is gone, a deleted tag) are
 * not shown: the service can no longer tell whether they were inside.
 */
async function visibleChange(ctx: GraphQLContext, change: DirectoryChange): Promise<DirectoryChange | null> {
  const scope = ctx.departmentScope;
  if (!scope) return change;
  const allowed = await scope.allowedDepartments();
  switch (change.kind) {
    case 'DIRECTORY_RELOADED':
      return change;
    case 'DEPARTMENT_CREATED':
    case 'DEPARTMENT_UPDATED':
    case 'DEPARTMENT_DELETED':
      return allowed.has(change.departmentId) || (change.parentId !== undefined && allowed.has(change.parentId)) ? change : null;
    case 'USER_CREATED':
    case 'USER_UPDATED':
    case 'USER_DELETED': {
      const departmentIds = change.departmentIds?.filter((d) => allowed.has(d));
      if (departmentIds?.length) return { ...change, departmentIds };
      if (change.kind === 'USER_DELETED') return null;
      const now = await ctx.loaders.user.load(change.newUserid ?? change.userid);
      if (!now) return null;
      return change.departmentIds ? { ...change, departmentIds: [] } : change;
    }
    case 'TAG_CREATED':
    case 'TAG_UPDATED':
    case 'TAG_DELETED':
    case 'TAG_MEMBERS_CHANGED': {
      const users = await scope.allowedUsers();
      const visibleUser = (u: string) => users.has(userKey(u));
      const cut = {
        ...(change.addedUserids ? { addedUserids: change.addedUserids.filter(visibleUser) } : {}),
        ...(change.removedUserids ? { removedUserids: change.removedUserids.filter(visibleUser) } : {}),
        ...(change.addedDepartmentIds ? { addedDepartmentIds: change.addedDepartmentIds.filter((d) => allowed.has(d)) } : {}),
        ...(change.removedDepartmentIds ? { removedDepartmentIds: change.removedDepartmentIds.filter((d) => allowed.has(d)) } : {}),
      };
      if (Object.values(cut).some((list) => list.length > 0)) return { ...change, ...cut };
      if (change.kind === 'TAG_DELETED' || change.kind === 'TAG_MEMBERS_CHANGED') return null;
      const tags = await ctx.loaders.tags();
      return tags.some((t) => t.tagid === change.tagId) ? change : null;
    }
  }
}

async function visibleRecord(ctx: GraphQLContext, recorded: RecordedChange): Promise<RecordedChange | null> {
  const change = await visibleChange(ctx, recorded.change);
  return change ? (change === recorded.change ? recorded : { ...recorded, change }) : null;
}

/** A page with only the visible changes; endCursor and hasMore stay those of the whole page, so paging moves on past hidden changes. */
export async function scopedPage<P extends ChangePage>(ctx: GraphQLContext, page: P): Promise<P> {
  if (!ctx.departmentScope) return page;
  ctx.refreshLoaders();
  const visible = await Promise.all(page.changes.map((c) => visibleRecord(ctx, c)));
  return { ...page, changes: visible.filter((c) => c !== null) };
}

/**
 * A live stream with only the visible changes. `return()` goes straight to the source stream, so
 * a client that leaves unsubscribes at once, even while no visible change has come.
 */
export function scopedStream(ctx: GraphQLContext, stream: AsyncIterableIterator<RecordedChange>): AsyncIterableIterator<RecordedChange> {
  if (!ctx.departmentScope) return stream;
  return {
    async next() {
      for (;;) {
        const result = await stream.next();
        if (result.done) return result;
        ctx.refreshLoaders();
        const visible = await visibleRecord(ctx, result.value);
        if (visible) return { value: visible, done: false };
      }
    },
    return: (value?: unknown) => (stream.return ? stream.return(value) : Promise.resolve({ value: undefined, done: true as const })),
    throw: (err?: unknown) => (stream.throw ? stream.throw(err) : Promise.reject(err)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
