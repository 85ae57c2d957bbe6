import type { GraphQLContext } from './context.ts';
import { PermissionDeniedError } from './mutation-errors.ts';

/**
 * Checks of a mutation's targets for a caller limited to department subtrees, made after the
 * input checks and before any upstream write, so a refused mutation changes nothing in WeCom.
 * Callers with the whole corp pass every check without a read. A refusal is PermissionDeniedError
 * (errcode null: the service refused, not WeCom) and says the same whether the target exists
 * outside or not at all, so it tells nothing about the rest of the corp.
 */

const denied = (field: string, what: string) =>
  new PermissionDeniedError(`${field}: ${what} is outside the departments this credential may change`, null);

/** Departments the write puts something in, or changes: each must be inside the caller's subtrees. */
export async function guardDepartments(ctx: GraphQLContext, field: string, ids: readonly number[]): Promise<void> {
  const scope = ctx.departmentScope;
  if (!scope || ids.length === 0) return;
  const allowed = await scope.allowedDepartments();
  ids.forEach((id, i) => {
    if (!allowed.has(id)) throw denied(ids.length > 1 || field.endsWith('Ids') ? `${field}[${i}]` : field, `department ${id}`);
  });
}

/**
 * The tops of the caller's subtrees may be renamed or reordered, but not moved or deleted: their
 * parent is outside, and moving or deleting one changes that parent.
 */
export function guardNotSubtreeTop(ctx: GraphQLContext, field: string, id: number, action: 'moved' | 'deleted'): void {
  const scope = ctx.departmentScope;
  if (scope?.roots.includes(id))
    throw new PermissionDeniedError(
      `${field}: department ${id} is the top of this credential's departments and cannot be ${action} with it`,
      null,
    );
}

/**
 * Members the write changes: every department they are in must be inside the caller's subtrees
 * (a member also in a department outside belongs partly to someone else, and stays read-only).
 */
export async function guardMembers(ctx: GraphQLContext, field: string, userids: readonly string[]): Promise<void> {
  const scope = ctx.departmentScope;
  if (!scope || userids.length === 0) return;
  const owned = await Promise.all(userids.map((userid) => scope.ownsUserid(userid)));
  owned.forEach((ok, i) => {
    if (!ok)
      throw denied(
        userids.length > 1 || field.endsWith('userids') || field.endsWith('Userids') ? `${field}[${i}]` : field,
        `member ${userids[i]}`,
      );
  });
}

/** Members the write only refers to (direct leaders): each must be visible to the caller. */
export async function guardVisibleMembers(ctx: GraphQLContext, field: string, userids: readonly string[]): Promise<void> {
  const scope = ctx.departmentScope;
  if (!scope || userids.length === 0) return;
  const visible = await Promise.all(userids.map((userid) => ctx.loaders.user.load(userid)));
  visible.forEach((user, i) => {
    if (!user) throw denied(`${field}[${i}]`, `member ${userids[i]}`);
  });
}

/**
 * A tag the write changes: a caller limited to departments may only change tags it can see (those
 * listing one of its departments or members). A corp-wide tag it cannot see is refused like a
 * missing one, so neither the write nor its answer (the tag's name) reaches it.
 */
export async function guardVisibleTag(ctx: GraphQLContext, field: string, tagid: number): Promise<void> {
  if (!ctx.departmentScope) return;
  const visible = await ctx.loaders.tags();
  if (!visible.some((t) => t.tagid === tagid)) throw denied(field, `tag ${tagid}`);
}

/** Things only a caller with the whole corp may name in a write (tags in an invitation). */
export function guardWholeCorp(ctx: GraphQLContext, field: string, what: string, given: boolean): void {
  if (ctx.departmentScope && given)
    throw new PermissionDeniedError(`${field}: ${what} are corp-wide, and this credential is limited to departments`, null);
}
