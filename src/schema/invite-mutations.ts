import { builder } from './builder.ts';
import { MUTATION_ERRORS, mutating } from './errors-types.ts';
import { checkInvite } from './validate.ts';
import { guardDepartments, guardMembers, guardWholeCorp } from './scope-guards.ts';

/**
 * batch/invite (wecom-api.md §3.2): invitations to members, whole departments and tags. WeCom
 * invites what it can and reports the rest, so the payload lists the refused targets. An
 * invitation changes nothing in the directory, so no change is published.
 */

const InvitationResult = builder.simpleObject('InvitationResult', {
  description: 'The targets WeCom refused (unknown or outside this service’s reach); all others were invited.',
  fields: (t) => ({
    invalidUserids: t.stringList(),
    invalidDepartmentIds: t.intList(),
    invalidTagIds: t.intList(),
  }),
});

builder.mutationFields((t) => ({
  inviteUsers: t.field({
    // Administrative (src/auth/scopes.ts); a caller limited to departments may invite only inside them.
    authScopes: { admin: true },
    type: InvitationResult,
    description: 'Invites members to join WeCom (batch/invite): at most 1000 userids, 100 departments and 100 tags. WeCom notifies each invitee once a day for up to 3 days; delivery is not guaranteed.',
    args: {
      userids: t.arg.stringList({ required: false }),
      departmentIds: t.arg.intList({ required: false }),
      tagIds: t.arg.intList({ required: false }),
    },
    errors: { types: MUTATION_ERRORS },
    resolve: async (_root, args, ctx) => {
      const invite = checkInvite(args);
      guardWholeCorp(ctx, 'tagIds', 'tags', invite.tag.length > 0);
      await guardMembers(ctx, 'userids', invite.user);
      await guardDepartments(ctx, 'departmentIds', invite.party);
      const result = await mutating({ 40035: 'userids' }, () => ctx.client.batch.invite(invite));
      return { invalidUserids: result.invalidUsers, invalidDepartmentIds: result.invalidParties, invalidTagIds: result.invalidTags };
    },
  }),
}));
