import { builder } from './builder.ts';
import { badInput } from './graphql-errors.ts';
import { totalCountOptions } from './refs.ts';
import { LIST_ID_LIMIT_MAX } from 'wecom-protocol/limits';

interface UserIdRow {
  userid: string;
  departmentId: number;
}

const UserIdRowRef = builder.objectRef<UserIdRow>('UserIdRow').implement({
  description: 'One (member, department) pair of user/list_id: a member of N departments appears N times.',
  fields: (t) => ({
    userid: t.exposeString('userid', { description: 'WeCom userid of the member.' }),
    departmentId: t.exposeInt('departmentId', { description: 'WeCom id of one department the member belongs to.' }),
  }),
});

/** Our cursor: WeCom's cursor of the page the row came from, and the row's position in it. */
interface Position {
  page: string;
  index: number;
}

const encode = (p: Position) => Buffer.from(JSON.stringify([p.page, p.index])).toString('base64url');

function decode(cursor: string): Position {
  try {
    const [page, index] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof page === 'string' && Number.isInteger(index) && (index as number) >= -1) return { page, index: index as number };
  } catch {
    // falls through to the error below
  }
  throw badInput('after is not a cursor returned by userIds', 'after');
}

const UserIdConnection = builder.connectionObject(
  {
    type: UserIdRowRef,
    name: 'UserIdConnection',
    description: 'A page of (userid, department) pairs from user/list_id, with the total across all pages.',
    edgesField: { description: 'The pairs of this page with their cursors, in WeCom order.' },
    fields: (t) => ({
      totalCount: t.int(totalCountOptions('How many (userid, department) pairs there are (walks every page of user/list_id when asked).')),
    }),
  },
  {
    name: 'UserIdEdge',
    description: 'A (userid, department) pair with its cursor.',
    nodeField: { description: 'The (userid, department) pair.' },
  },
);

builder.queryFields((t) => ({
  userIds: t.connection(
    {
      // Every userid of the corp: not for a caller limited to departments.
      authScopes: { wholeCorp: true },
      type: UserIdRowRef,
      description:
        "Every (userid, department) pair of the corp, paged with WeCom's user/list_id cursor (contacts-sync secret; works under the 2022 read restrictions). " +
        `Pages forward only: \`first\` 1–${LIST_ID_LIMIT_MAX} (default 1000) and \`after\`; \`last\` and \`before\` give BAD_USER_INPUT. Needs a credential for the whole corp.`,
      args: {},
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) throw badInput('userIds pages forward only (first/after)', 'last');
        const first = args.first ?? 1000;
        if (first < 1 || first > LIST_ID_LIMIT_MAX) throw badInput(`first must be 1 to ${LIST_ID_LIMIT_MAX}`, 'first');
        const start = args.after ? decode(args.after) : { page: '', index: -1 };
        const skip = start.index + 1;
        const limit = Math.min(LIST_ID_LIMIT_MAX, skip + first);
        const page = await ctx.client.users.listIds({ ...(start.page ? { cursor: start.page } : {}), limit });
        const rows = page.deptUser.slice(skip, skip + first);
        const edges = rows.map((r, i) => ({
          cursor: encode({ page: start.page, index: skip + i }),
          node: { userid: r.userid, departmentId: r.department },
        }));
        // Rows left on this WeCom page after ours continue from it; otherwise from WeCom's next cursor.
        const moreHere = page.deptUser.length > skip + first;
        const hasNextPage = moreHere || !!page.nextCursor;
        if (!moreHere && page.nextCursor && edges.length) {
          edges[edges.length - 1]!.cursor = encode({ page: page.nextCursor, index: -1 });
        }
        return {
          edges,
          pageInfo: {
            hasNextPage,
            hasPreviousPage: !!args.after,
            startCursor: edges[0]?.cursor ?? null,
            endCursor: edges.at(-1)?.cursor ?? null,
          },
          totalCount: async () => (await ctx.client.users.listAllIds({ limit: LIST_ID_LIMIT_MAX })).length,
        };
      },
    },
    UserIdConnection,
  ),
}));
