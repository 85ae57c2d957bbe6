import { builder } from './builder.ts';
import { UserConnectionRef, UserRef } from './refs.ts';
import { UserPage } from './user-page.ts';
import { badInput } from './graphql-errors.ts';

/** Longest search text accepted: names are at most 64 characters. */
export const MAX_SEARCH_QUERY_LENGTH = 64;

builder.queryFields((t) => ({
  searchUsers: t.connection(
    {
      type: UserRef,
      description:
        'People picker: case-insensitive search on userid, name, alias, English name and position, and on the pinyin of Chinese names (full or initials: "zhangsan", "zs" and "张" all find 张三). Exact matches first, then prefixes, then substrings. Pages of 50 by default; a larger `first` than 500 gives 500.',
      args: {
        query: t.arg.string({
          required: true,
          description: 'What to look for: 1–64 characters after trimming (BAD_USER_INPUT otherwise).',
        }),
        departmentId: t.arg.int({ required: false, description: 'Only members of this department or below it.' }),
      },
      resolve: async (_root, args, ctx) => {
        const query = args.query.trim();
        if (!query) throw badInput('query must not be empty', 'query');
        if ([...query].length > MAX_SEARCH_QUERY_LENGTH) throw badInput(`query: at most ${MAX_SEARCH_QUERY_LENGTH} characters`, 'query');
        const [index, tree] = await Promise.all([ctx.loaders.searchIndex(), ctx.loaders.tree()]);
        const within = args.departmentId;
        const hits = index.search(query, within == null ? undefined : (u) => u.department.some((d) => tree.isWithin(d, within)));
        return new UserPage(hits, args);
      },
    },
    UserConnectionRef,
  ),
}));
