import { userKey } from 'wecom-protocol/userid';
import type { GraphQLContext } from './context.ts';
import type { ChangeKind, DirectoryChange } from '../directory/changes.ts';
import type { ChangeFeedError, ChangePage, RecordedChange } from '../directory/change-feed.ts';
import { changeViewOf, type Classify } from '../directory/change-view.ts';

/**
 * The change feed (directoryChanges, contactChanged) for a caller limited to department
 * subtrees: only changes about what that caller can see, with the departments and members they
 * name cut to the visible ones, numbered in a view of their own (src/directory/change-view.ts) so
 * that sequences and cursors tell nothing of the changes left out. Each change is judged once per
 * view, against the directory as it is when the view first reads past it.
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

/** Judges changes for the caller's view, against the directory as it is now (the caller's loaders, refreshed). */
function classifierOf(ctx: GraphQLContext): Classify {
  return async (changes) => {
    // A subscription's context lives long: what it read before may be out of date.
    ctx.refreshLoaders();
    return Promise.all(changes.map((c) => visibleChange(ctx, c.change)));
  };
}

/** A page of the feed as the caller may see it: the whole feed, or its view's. */
export async function changesPage(
  ctx: GraphQLContext,
  since: string | null,
  first: number,
): Promise<ChangePage & { latestCursor: string }> {
  const scope = ctx.departmentScope;
  if (!scope) return { ...ctx.feed.page(since, first), latestCursor: ctx.feed.latestCursor() };
  return changeViewOf(ctx.feed, scope.key).page(since, first, classifierOf(ctx));
}

/** A live stream of the feed as the caller may see it (see ChangeFeed.stream). */
export async function changesStream(
  ctx: GraphQLContext,
  options: { kinds: readonly ChangeKind[]; since: string | null; mapError: (err: ChangeFeedError) => unknown },
): Promise<AsyncIterableIterator<RecordedChange>> {
  const scope = ctx.departmentScope;
  if (!scope) return ctx.feed.stream(options);
  return changeViewOf(ctx.feed, scope.key).stream(options, classifierOf(ctx));
}
