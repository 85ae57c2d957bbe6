import { builder } from './builder.ts';
import { RELAY_DOCS } from './plugin-docs.ts';
import { UserPage } from './user-page.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComTagSummary } from '../wecom/tags.ts';

/**
 * Object refs, declared apart from their implementations because the types refer to each
 * other (Pothos app layout). Each is implemented in the file named after it.
 */
export const UserRef = builder.objectRef<WeComUser>('User');
export const DepartmentRef = builder.objectRef<WeComDepartment>('Department');
export const TagRef = builder.objectRef<WeComTagSummary>('Tag');

/** Options of the `totalCount` field every connection has. */
export function totalCountOptions(description: string) {
  return {
    description,
    resolve: (connection: { totalCount: number | (() => Promise<number>) }) =>
      typeof connection.totalCount === 'function' ? connection.totalCount() : connection.totalCount,
  };
}

/** A page of users with the total across all pages (members, search). */
export const UserConnectionRef = builder.connectionObject(
  {
    type: UserRef,
    name: 'UserConnection',
    description: 'A page of members (Department.members, searchUsers), with the total across all pages.',
    edgesField: { description: 'The members of this page with their cursors, in list order.' },
    fields: (t) => ({
      totalCount: t.int(totalCountOptions('How many users there are across all pages.')),
      // Replaces the relay plugin's `nodes` (same type and text), which maps every edge: a
      // UserPage holds its nodes and makes edges only when asked (user-page.ts).
      nodes: t.field({
        type: [UserRef],
        description: RELAY_DOCS.nodesOnConnection.description,
        resolve: (page) => {
          if (!(page instanceof UserPage)) throw new Error('a UserConnection is resolved to a UserPage');
          return page.nodes;
        },
      }),
    }),
  },
  {
    name: 'UserEdge',
    description: 'A member in a list of members, with its cursor.',
    nodeField: { description: 'The member.' },
  },
);
