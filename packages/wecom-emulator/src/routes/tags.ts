import { userKey } from 'wecom-protocol/userid';
import type { ApiContext, Route } from './types.ts';
import type { Caller, Department, Tag, TagOwner, User } from '../model.ts';
import { fail } from '../errors.ts';
import { bodyArray, bodyInt, bodyString, isInt32, isString, queryInt } from './params.ts';
import {
  INT32_MAX,
  TAG_NAME_MAX_CHARS,
  TAG_NODES_MAX,
  TAG_PARTIES_PER_CALL_MAX,
  TAG_USERS_PER_CALL_MAX,
  TAGS_PER_CORP_MAX,
  charLength,
} from 'wecom-protocol/limits';

/** Tags (docs/wecom-api.md §5) and who may operate them (§2: a tag belongs to the app that created it). */

/**
 * tag/create with an explicit `tagid` that is already taken. Unconfirmed (docs/wecom-api.md §13):
 * 40068 "invalid tagid" is the code WeCom uses for every other unusable tag id.
 */
export const DUPLICATE_TAGID_ERRCODE = 40068;
/**
 * tag/create beyond 3000 tags per corp. The fact sheet names no code: 45024 is WeCom's
 * "quota reached" code (unconfirmed).
 */
export const TAG_COUNT_LIMIT_ERRCODE = 45024;
/**
 * More than 1000 users or 100 departments in one call. 81014 reads "too many users/departments in
 * one tag-add call", so addtagusers answers 81014; deltagusers answers the general 40035
 * ("invalid parameter", whose help text lists >1000 users and >100 departments). Unconfirmed.
 */
export const TAG_ADD_TOO_MANY_ERRCODE = 81014;
export const TAG_DEL_TOO_MANY_ERRCODE = 40035;

/**
 * Console tags belong to the super-admin group; the contacts-sync token may operate those
 * (81011 help), so they share the contacts-sync owner.
 */
function ownerFor(caller: Caller): TagOwner {
  return caller.kind === 'app' ? caller.agentId : 'contact';
}

function mayOperate(caller: Caller, tag: Tag): boolean {
  if (caller.kind === 'console') return true;
  return tag.owner === ownerFor(caller);
}

/** 41017 when `tagid` is absent, 40068 when malformed or unknown. */
function existingTag(ctx: ApiContext, tagid: number | undefined): Tag {
  if (tagid === undefined) throw fail(41017);
  const tag = ctx.store.tags.get(tagid);
  if (!tag) throw fail(40068, `tag ${tagid} not found`);
  return tag;
}

/** A tag the caller may change: 81011 when another app (or the contacts-sync side) owns it. */
function ownedTag(ctx: ApiContext, tagid: number | undefined): Tag {
  const tag = existingTag(ctx, tagid);
  if (!mayOperate(ctx.caller, tag)) throw fail(81011, `tag ${tag.tagid} was created by someone else`);
  return tag;
}

const bodyTagId = (ctx: ApiContext) => bodyInt(ctx.body, 'tagid', 40068);
const queryTagId = (ctx: ApiContext) => queryInt(ctx.query, 'tagid', 40068);

/** 41018 when absent, 40072 when empty or longer than 32 characters. */
function tagName(ctx: ApiContext): string {
  const name = bodyString(ctx.body, 'tagname', 40072);
  if (name === undefined) throw fail(41018);
  if (name.trim() === '' || charLength(name) > TAG_NAME_MAX_CHARS) {
    throw fail(40072, `tagname must be 1–${TAG_NAME_MAX_CHARS} characters`);
  }
  return name;
}

function nameTaken(ctx: ApiContext, name: string, self?: number): boolean {
  for (const tag of ctx.store.tags.values()) if (tag.tagid !== self && tag.tagname === name) return true;
  return false;
}

interface MemberLists {
  users: User[];
  parties: Department[];
  invalidUsers: string[];
  invalidParties: number[];
}

/**
 * Reads `userlist`/`partylist` and splits them into members the caller may use and the rest:
 * unknown ids and ids outside the caller's visibility are invalid (§5).
 */
function memberLists(ctx: ApiContext, tooManyErrcode: number): MemberLists {
  // 40035 also covers "string instead of array" (docs/wecom-api.md §10).
  const userlist = bodyArray(ctx.body, 'userlist', isString, 40035) ?? [];
  const partylist = bodyArray(ctx.body, 'partylist', isInt32, 40035) ?? [];
  if (!userlist.length && !partylist.length) throw fail(40035, 'userlist and partylist are both empty');
  if (userlist.length > TAG_USERS_PER_CALL_MAX) throw fail(tooManyErrcode, `at most ${TAG_USERS_PER_CALL_MAX} users per call`);
  if (partylist.length > TAG_PARTIES_PER_CALL_MAX) throw fail(tooManyErrcode, `at most ${TAG_PARTIES_PER_CALL_MAX} departments per call`);

  const out: MemberLists = { users: [], parties: [], invalidUsers: [], invalidParties: [] };
  const seenUsers = new Set<string>();
  for (const userid of userlist) {
    const user = ctx.store.getUser(userid);
    if (!user || !ctx.scope.canSeeUser(user)) {
      out.invalidUsers.push(userid);
    } else if (!seenUsers.has(userKey(user.userid))) {
      seenUsers.add(userKey(user.userid));
      out.users.push(user);
    }
  }
  const seenParties = new Set<number>();
  for (const id of partylist) {
    const dept = ctx.store.getDepartment(id);
    if (!dept || !ctx.scope.canSeeDepartment(id)) {
      out.invalidParties.push(id);
    } else if (!seenParties.has(id)) {
      seenParties.add(id);
      out.parties.push(dept);
    }
  }
  return out;
}

/** The partial-failure fields: a `|`-joined string and an int array, each only when non-empty. */
function invalidFields(lists: MemberLists): Record<string, unknown> {
  return {
    ...(lists.invalidUsers.length ? { invalidlist: lists.invalidUsers.join('|') } : {}),
    ...(lists.invalidParties.length ? { invalidparty: lists.invalidParties } : {}),
  };
}

/** An `update_tag` event: comma-separated ids, each field absent when empty (§9.6). */
function tagEvent(ctx: ApiContext, tagid: number, items: Record<string, (string | number)[]>): void {
  const fields: Record<string, string> = {};
  for (const [name, values] of Object.entries(items)) if (values.length) fields[name] = values.join(',');
  if (Object.keys(fields).length) ctx.emit({ ChangeType: 'update_tag', TagId: tagid, ...fields });
}

export const tagRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/tag/create',
    access: 'tag',
    okMsg: 'created',
    handle(ctx) {
      const { store } = ctx;
      const tagname = tagName(ctx);
      const explicit = bodyTagId(ctx);
      if (explicit !== undefined && explicit < 0) throw fail(40068, 'tagid must be a non-negative integer');
      if (nameTaken(ctx, tagname)) throw fail(40071);
      if (explicit !== undefined && store.tags.has(explicit)) throw fail(DUPLICATE_TAGID_ERRCODE, `tagid ${explicit} already exists`);
      if (store.tags.size >= TAGS_PER_CORP_MAX) throw fail(TAG_COUNT_LIMIT_ERRCODE, `at most ${TAGS_PER_CORP_MAX} tags per corp`);
      // Without a tagid WeCom uses the current largest id + 1 (§5).
      const tagid = explicit ?? (store.tags.size ? Math.max(...store.tags.keys()) + 1 : 1);
      if (tagid > INT32_MAX) throw fail(40068, 'no tagid left above the largest one; pass tagid');
      store.tags.set(tagid, { tagid, tagname, owner: ownerFor(ctx.caller), users: new Set(), parties: new Set() });
      store.touch();
      return { tagid };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/tag/update',
    access: 'tag',
    okMsg: 'updated',
    handle(ctx) {
      const tag = ownedTag(ctx, bodyTagId(ctx));
      const tagname = tagName(ctx);
      if (nameTaken(ctx, tagname, tag.tagid)) throw fail(40071);
      tag.tagname = tagname;
      ctx.store.touch();
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/tag/delete',
    access: 'tag',
    okMsg: 'deleted',
    handle(ctx) {
      const tag = ownedTag(ctx, queryTagId(ctx));
      ctx.store.tags.delete(tag.tagid);
      // App visibility may include this tag's members.
      ctx.store.touch();
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/tag/get',
    access: 'tag',
    handle(ctx) {
      // Any token may read any tag; members outside an app's visibility are left out (§5).
      const tag = existingTag(ctx, queryTagId(ctx));
      const userlist: { userid: string; name: string }[] = [];
      for (const key of tag.users) {
        const user = ctx.store.users.get(key);
        if (user && ctx.scope.canSeeUser(user)) userlist.push({ userid: user.userid, name: user.name });
      }
      const partylist = [...tag.parties].filter((id) => ctx.scope.canSeeDepartment(id));
      return { tagname: tag.tagname, userlist, partylist };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/tag/addtagusers',
    access: 'tag',
    handle(ctx) {
      const tag = ownedTag(ctx, bodyTagId(ctx));
      const lists = memberLists(ctx, TAG_ADD_TOO_MANY_ERRCODE);
      if (!lists.users.length && !lists.parties.length) throw fail(40070);
      const newUsers = lists.users.filter((u) => !tag.users.has(userKey(u.userid)));
      const newParties = lists.parties.filter((d) => !tag.parties.has(d.id));
      if (tag.users.size + tag.parties.size + newUsers.length + newParties.length > TAG_NODES_MAX) {
        throw fail(81003, `a tag holds at most ${TAG_NODES_MAX} users and departments`);
      }
      for (const u of newUsers) tag.users.add(userKey(u.userid));
      for (const d of newParties) tag.parties.add(d.id);
      ctx.store.touch();
      tagEvent(ctx, tag.tagid, {
        AddUserItems: newUsers.map((u) => u.userid),
        AddPartyItems: newParties.map((d) => d.id),
      });
      return invalidFields(lists);
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/tag/deltagusers',
    access: 'tag',
    okMsg: 'deleted',
    handle(ctx) {
      const tag = ownedTag(ctx, bodyTagId(ctx));
      const lists = memberLists(ctx, TAG_DEL_TOO_MANY_ERRCODE);
      // All invalid answers 40031 here, not addtagusers' 40070 (§5).
      if (!lists.users.length && !lists.parties.length) throw fail(40031, 'all list invalid');
      // Valid members that are not in the tag are a no-op, not an invalid entry.
      const removedUsers = lists.users.filter((u) => tag.users.delete(userKey(u.userid)));
      const removedParties = lists.parties.filter((d) => tag.parties.delete(d.id));
      ctx.store.touch();
      tagEvent(ctx, tag.tagid, {
        DelUserItems: removedUsers.map((u) => u.userid),
        DelPartyItems: removedParties.map((d) => d.id),
      });
      return invalidFields(lists);
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/tag/list',
    access: 'tag',
    handle(ctx) {
      // Self-built apps and the contacts-sync secret see every tag (§5).
      const taglist = [...ctx.store.tags.values()].sort((a, b) => a.tagid - b.tagid).map((t) => ({ tagid: t.tagid, tagname: t.tagname }));
      return { taglist };
    },
  },
];
