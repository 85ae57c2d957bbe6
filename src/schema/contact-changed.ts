import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';
import type { CHANGE_KINDS } from '../directory/changes.ts';
import { ChangeFeedError, type ChangePage, type RecordedChange } from '../directory/change-feed.ts';
import { changesPage, changesStream } from './scoped-changes.ts';

/**
 * Directory changes as the graph shows them: `contactChanged(types)` live over Server-Sent Events
 * (Yoga's SSE: `Accept: text/event-stream`), and `directoryChanges(since)` to catch up after being
 * away. Both carry the same `ContactChange`, from the service's own mutations, WeCom's callbacks
 * and imports alike.
 */

/** directoryChanges returns at most this many changes per call. */
export const DIRECTORY_CHANGES_MAX_PAGE = 1000;
const DIRECTORY_CHANGES_DEFAULT_PAGE = 100;

const ContactChangeType = builder.enumType('ContactChangeType', {
  description: 'What changed in the directory.',
  values: {
    USER_CREATED: { description: 'A member was added.' },
    USER_UPDATED: { description: 'A member changed (fields in changedFields when known; newUserid when the userid changed).' },
    USER_DELETED: { description: 'A member was deleted.' },
    DEPARTMENT_CREATED: { description: 'A department was added.' },
    DEPARTMENT_UPDATED: { description: 'A department was renamed, reordered or moved.' },
    DEPARTMENT_DELETED: { description: 'A department was deleted.' },
    TAG_CREATED: { description: 'A tag was added.' },
    TAG_UPDATED: { description: 'A tag was renamed.' },
    TAG_DELETED: { description: 'A tag was deleted.' },
    TAG_MEMBERS_CHANGED: { description: 'Members or departments were added to or removed from a tag.' },
    DIRECTORY_RELOADED: { description: 'Many things may have changed at once (an import finished): reload what you show.' },
  } satisfies Record<(typeof CHANGE_KINDS)[number], { description: string }>,
});

const ContactChangeSource = builder.enumType('ContactChangeSource', {
  description: 'How the service learned of a change.',
  values: {
    MUTATION: { value: 'mutation', description: 'A mutation of this service.' },
    CALLBACK: {
      value: 'callback',
      description: 'A WeCom change_contact callback (a change made in the admin console or by another tool).',
    },
    IMPORT: { value: 'import', description: 'A batch import finished.' },
  } as const,
});

const ContactChangeRef = builder.objectRef<RecordedChange>('ContactChange').implement({
  description: 'One change of the directory, in the order the service learned of them.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      description: 'Pass to directoryChanges(since:) or contactChanged(since:) to continue after this change.',
    }),
    sequence: t.exposeInt('sequence', {
      description:
        'Position in the change feed: 1, 2, 3 … since the service started. A credential limited to department subtrees has a numbering of its own that counts only the changes it is shown.',
    }),
    occurredAt: t.string({
      description: 'When the service learned of the change (ISO 8601).',
      resolve: (r) => new Date(r.occurredAt).toISOString(),
    }),
    kind: t.field({
      type: ContactChangeType,
      description: 'What changed; says which of the fields below are set.',
      resolve: (r) => r.change.kind,
    }),
    source: t.field({
      type: ContactChangeSource,
      description: 'How the service learned of it: its own mutation, a WeCom callback or an import.',
      resolve: (r) => r.change.source,
    }),
    userid: t.string({
      nullable: true,
      description: 'The member (its userid before the change).',
      resolve: (r) => ('userid' in r.change ? r.change.userid : null),
    }),
    newUserid: t.string({
      nullable: true,
      description: 'The member’s new userid, when it changed.',
      resolve: (r) => ('newUserid' in r.change ? (r.change.newUserid ?? null) : null),
    }),
    departmentIds: t.intList({
      nullable: true,
      description: 'A member’s departments, when the change names them (on USER_UPDATED only when they changed).',
      resolve: (r) => ('userid' in r.change ? (r.change.departmentIds ?? null) : null),
    }),
    departmentId: t.int({
      nullable: true,
      description: 'The department.',
      resolve: (r) => ('departmentId' in r.change ? r.change.departmentId : null),
    }),
    parentId: t.int({
      nullable: true,
      description: 'The department’s parent, when known (on DEPARTMENT_UPDATED, when it moved).',
      resolve: (r) => ('parentId' in r.change ? (r.change.parentId ?? null) : null),
    }),
    tagId: t.int({ nullable: true, description: 'The tag.', resolve: (r) => ('tagId' in r.change ? r.change.tagId : null) }),
    addedUserids: t.stringList({
      nullable: true,
      description: 'Members added to the tag (TAG_MEMBERS_CHANGED); null when the change does not list them.',
      resolve: (r) => ('tagId' in r.change ? (r.change.addedUserids ?? null) : null),
    }),
    removedUserids: t.stringList({
      nullable: true,
      description: 'Members removed from the tag (TAG_MEMBERS_CHANGED); null when the change does not list them.',
      resolve: (r) => ('tagId' in r.change ? (r.change.removedUserids ?? null) : null),
    }),
    addedDepartmentIds: t.intList({
      nullable: true,
      description: 'Departments added to the tag (TAG_MEMBERS_CHANGED); null when the change does not list them.',
      resolve: (r) => ('tagId' in r.change ? (r.change.addedDepartmentIds ?? null) : null),
    }),
    removedDepartmentIds: t.intList({
      nullable: true,
      description: 'Departments removed from the tag (TAG_MEMBERS_CHANGED); null when the change does not list them.',
      resolve: (r) => ('tagId' in r.change ? (r.change.removedDepartmentIds ?? null) : null),
    }),
    changedFields: t.stringList({
      nullable: true,
      description: 'The fields that changed, named as in WeCom (name, department, isLeaderInDept, parentid …); null when not known.',
      resolve: (r) => ('changedFields' in r.change ? (r.change.changedFields ?? null) : null),
    }),
  }),
});

const DirectoryChangesRef = builder.objectRef<ChangePage & { latestCursor: string }>('DirectoryChanges').implement({
  description: 'A page of the change feed.',
  fields: (t) => ({
    changes: t.field({
      type: [ContactChangeRef],
      description: 'The changes of this page, oldest first; may be empty.',
      resolve: (p) => p.changes,
    }),
    endCursor: t.exposeString('endCursor', {
      description: 'Continue from here (the last change returned, or `since` when there was none).',
    }),
    hasMore: t.exposeBoolean('hasMore', { description: 'More changes follow endCursor already.' }),
    latestCursor: t.exposeString('latestCursor', {
      description: 'The newest change’s cursor: where a client that just reloaded everything starts.',
    }),
  }),
});

/** Feed errors as GraphQL errors with a code the client can act on. */
function feedError(err: unknown): unknown {
  if (!(err instanceof ChangeFeedError)) return err;
  return new GraphQLError(err.message, { extensions: { code: err.code === 'BAD_CURSOR' ? 'BAD_USER_INPUT' : err.code } });
}

builder.queryFields((t) => ({
  directoryChanges: t.field({
    type: DirectoryChangesRef,
    description:
      'The changes since a cursor, oldest first (like Microsoft Graph’s delta). Without `since`, from the oldest change kept. ' +
      'A cursor older than what is kept (or from before a restart) gives CHANGE_FEED_EXPIRED: reload, then continue from latestCursor. ' +
      'A credential limited to department subtrees reads a view of its own: only the changes about them, numbered and with cursors of its own, so nothing in it moves for the others.',
    args: {
      since: t.arg.string({
        required: false,
        description:
          'A cursor from an earlier answer (endCursor, latestCursor or ContactChange.cursor); from the oldest change kept when omitted.',
      }),
      first: t.arg.int({
        required: false,
        description: `At most this many (default ${DIRECTORY_CHANGES_DEFAULT_PAGE}, up to ${DIRECTORY_CHANGES_MAX_PAGE}).`,
      }),
    },
    resolve: async (_root, { since, first }, ctx) => {
      const size = first ?? DIRECTORY_CHANGES_DEFAULT_PAGE;
      if (!Number.isInteger(size) || size < 1 || size > DIRECTORY_CHANGES_MAX_PAGE) {
        throw new GraphQLError(`first must be 1 to ${DIRECTORY_CHANGES_MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
      try {
        // A caller limited to departments reads its own view of the feed (scoped-changes.ts).
        return await changesPage(ctx, since ?? null, size);
      } catch (err) {
        throw feedError(err);
      }
    },
  }),
}));

builder.subscriptionFields((t) => ({
  contactChanged: t.field({
    type: ContactChangeRef,
    description:
      'Directory changes as they happen (Server-Sent Events), of the given types (all when omitted). ' +
      'With `since`, the changes after that cursor come first, so a client that reconnects misses nothing. ' +
      'A credential limited to department subtrees receives only the changes about them.',
    args: {
      types: t.arg({
        type: [ContactChangeType],
        required: false,
        description: 'Only changes of these kinds; all kinds when omitted or empty.',
      }),
      since: t.arg.string({
        required: false,
        description:
          'Replay the changes after this cursor first (ContactChange.cursor or a directoryChanges cursor); only new changes when omitted.',
      }),
    },
    subscribe: async (_root, { types, since }, ctx) => {
      try {
        return await changesStream(ctx, { kinds: types ?? [], since: since ?? null, mapError: feedError });
      } catch (err) {
        throw feedError(err);
      }
    },
    resolve: (change) => change,
  }),
}));
