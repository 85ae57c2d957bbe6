import { builder } from './builder.ts';
import { mutating, mutationErrors } from './mutation-errors.ts';
import { checkInvite } from './validate.ts';
import { guardDepartments, guardMembers, guardWholeCorp } from './scope-guards.ts';

/**
 * batch/invite (docs/wecom-api.md §3.2): invitations to members, whole departments and tags. WeCom
 * invites what it can and reports the rest, so the payload lists the refused targets. An
 * invitation changes nothing in the directory, so no change is published.
 */

const InvitationResult = builder.simpleObject('InvitationResult', {
  description: 'The targets WeCom refused (unknown or outside this service’s reach); all others were invited.',
  fields: (t) => ({
    invalidUserids: t.stringList({ description: 'Userids WeCom did not invite (invaliduser); empty when all were.' }),
    invalidDepartmentIds: t.intList({ description: 'Department ids WeCom did not invite (invalidparty); empty when all were.' }),
    invalidTagIds: t.intList({ description: 'Tag ids WeCom did not invite (invalidtag); empty when all were.' }),
  }),
});

builder.mutationFields((t) => ({
  inviteUsers: t.field({
    // Administrative (src/auth/scopes.ts); a caller limited to departments may invite only inside them.
    authScopes: { admin: true },
    type: InvitationResult,
    description:
      'Invites members to join WeCom (batch/invite): at most 1000 userids, 100 departments and 100 tags. WeCom notifies each invitee once a day for up to 3 days; delivery is not guaranteed.',
    args: {
      userids: t.arg.stringList({ required: false, description: 'Members to invite: at most 1000 userids.' }),
      departmentIds: t.arg.intList({ required: false, description: 'Departments whose members are invited: at most 100 ids.' }),
      tagIds: t.arg.intList({
        required: false,
        description: 'Tags whose members are invited: at most 100 ids; needs a credential for the whole corp.',
      }),
    },
    errors: mutationErrors('inviteUsers', {
      succeeded: 'WeCom accepted the invitations, or some of them (the payload lists the targets it refused)',
      data: 'The targets WeCom refused; everyone else was invited.',
    }),
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
