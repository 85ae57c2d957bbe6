import { createHash } from 'node:crypto';
import type { ApiContext, ApiResult, Route } from './types.ts';
import type { User } from '../model.ts';
import type { CorpStore } from '../store.ts';
import { fail } from '../errors.ts';
import { bodyArray, bodyInt, bodyIntOrUnset, bodyString, isString, queryInt, queryString } from './params.ts';
import { applyUserCreate, applyUserDelete, applyUserUpdate, existingUser, readUserid } from '../user-rules.ts';
import { type UserViewOptions, userSimpleView, userView } from '../user-view.ts';
import {
  ACTIVE_STAT_MAX_DAYS_BACK,
  BATCH_DELETE_MAX,
  GETUSERID_MOBILE_MAX_BYTES,
  GETUSERID_MOBILE_MIN_BYTES,
  LIST_ID_LIMIT_MAX,
  LIST_ID_LIMIT_MIN,
  byteLength,
  isValidUserid,
} from 'wecom-protocol/limits';

/** Members (docs/wecom-api.md §3.2). The write rules live in user-rules.ts, the read shape in user-view.ts. */

/**
 * `fetch_child=1` on user/simplelist and user/list: the current docs no longer list it and
 * whether WeCom still honours it is unconfirmed (§13). The emulator honours it: members of the
 * department and all its descendants, each once.
 */
export const HONOUR_FETCH_CHILD = true;

/** user/list_id `limit` when the body omits it: unconfirmed (§3.2), the emulator uses the maximum. */
export const LIST_ID_DEFAULT_LIMIT = LIST_ID_LIMIT_MAX;

/** get_active_stat dates are calendar days in China Standard Time (UTC+8), where WeCom runs. */
const CHINA_UTC_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

function viewOptions(ctx: ApiContext, legacyFields = false): UserViewOptions {
  return {
    scope: ctx.scope,
    // The 2022-06-20 rule applies to app tokens, never to the contacts-sync secret.
    withholdSensitive: ctx.options.withholdSensitiveFields && ctx.caller.kind === 'app',
    legacyFields,
  };
}

/** GET-style userid: the query string (console calls pass JSON fields there too). */
function queryPayload(ctx: ApiContext): Record<string, unknown> {
  const userid = queryString(ctx.query, 'userid');
  return userid === undefined ? {} : { userid };
}

/** The members user/simplelist and user/list return for `department_id`. */
function listedMembers(ctx: ApiContext): User[] {
  const { store, scope } = ctx;
  const id = queryInt(ctx.query, 'department_id', 60123);
  if (id === undefined) throw fail(40058, 'department_id missing');
  if (!store.getDepartment(id)) throw fail(60123, `department ${id} does not exist`);
  if (!scope.canSeeDepartment(id)) throw fail(60011);
  const fetchChild = queryInt(ctx.query, 'fetch_child', 40058) === 1 && HONOUR_FETCH_CHILD;
  const members = fetchChild ? store.membersOfSubtree(id) : store.membersOf(id);
  return scope.all ? members : members.filter((u) => scope.canSeeUser(u));
}

// ── user/list_id ────────────────────────────────────────────────────────────

/** Members in creation order, cached until the store changes (pages of one listing share it). */
const byCreation = new WeakMap<CorpStore, { version: number; users: User[] }>();

function usersByCreation(store: CorpStore): User[] {
  const cached = byCreation.get(store);
  if (cached && cached.version === store.version) return cached.users;
  const users = [...store.users.values()].sort((a, b) => a.created_seq - b.created_seq);
  byCreation.set(store, { version: store.version, users });
  return users;
}

/**
 * A list_id cursor names the next (member, department index) to return by the member's
 * creation sequence, so it stays valid when members are added or deleted between pages.
 */
interface ListPosition {
  seq: number;
  index: number;
}

const encodeCursor = (p: ListPosition) => Buffer.from(`${p.seq}.${p.index}`).toString('base64url');

function decodeCursor(cursor: string): ListPosition {
  const match = /^(\d{1,15})\.(\d{1,4})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw fail(40058, 'cursor is not one this API returned');
  return { seq: Number(match[1]), index: Number(match[2]) };
}

/** The first member whose creation sequence is at least `seq` (binary search). */
function firstAtOrAfter(users: User[], seq: number): number {
  let lo = 0;
  let hi = users.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (users[mid]!.created_seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function listIds(ctx: ApiContext): ApiResult {
  const cursor = bodyString(ctx.body, 'cursor');
  const limit = bodyInt(ctx.body, 'limit', 40058) ?? LIST_ID_DEFAULT_LIMIT;
  if (limit < LIST_ID_LIMIT_MIN || limit > LIST_ID_LIMIT_MAX) throw fail(40058, `limit must be ${LIST_ID_LIMIT_MIN}–${LIST_ID_LIMIT_MAX}`);
  const users = usersByCreation(ctx.store);
  const start = cursor ? decodeCursor(cursor) : { seq: 0, index: 0 };
  let u = firstAtOrAfter(users, start.seq);
  let d = users[u]?.created_seq === start.seq ? start.index : 0;
  const rows: { userid: string; department: number }[] = [];
  // One row per (member, department): a member in N departments appears N times (§3.2).
  while (u < users.length && rows.length < limit) {
    const user = users[u]!;
    if (d < user.department.length) {
      rows.push({ userid: user.userid, department: user.department[d]! });
      d++;
    } else {
      u++;
      d = 0;
    }
  }
  while (u < users.length && d >= users[u]!.department.length) {
    u++;
    d = 0;
  }
  const next_cursor = u < users.length ? encodeCursor({ seq: users[u]!.created_seq, index: d }) : '';
  return { next_cursor, dept_user: rows };
}

// ── user/get_active_stat ────────────────────────────────────────────────────

/** Days since the epoch of a `YYYY-MM-DD` date (40058 when it is not a real calendar date). */
function calendarDay(date: string | undefined): number {
  const match = date === undefined ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw fail(40058, 'date must be YYYY-MM-DD');
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(y, m - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) {
    throw fail(40058, `${date} is not a calendar date`);
  }
  return ms / DAY_MS;
}

/**
 * The emulator's active-member count for a day: the activated members, scaled by a fraction in
 * [0.6, 0.95) derived from the corp and the date, so the same day always gives the same number.
 */
export function activeCount(activatedMembers: number, corpId: string, date: string): number {
  const h = createHash('sha256').update(`${corpId}:active:${date}`).digest().readUInt32BE(0);
  return Math.floor(activatedMembers * (0.6 + 0.35 * (h / 2 ** 32)));
}

function activeStat(ctx: ApiContext): ApiResult {
  const date = bodyString(ctx.body, 'date');
  const day = calendarDay(date);
  const today = Math.floor((ctx.clock.nowMs() + CHINA_UTC_OFFSET_MS) / DAY_MS);
  if (day > today) throw fail(40058, 'date is in the future');
  if (today - day > ACTIVE_STAT_MAX_DAYS_BACK) throw fail(40058, `date must be within the last ${ACTIVE_STAT_MAX_DAYS_BACK} days`);
  let activated = 0;
  for (const u of ctx.store.users.values()) if (u.status === 1) activated++;
  return { active_cnt: activeCount(activated, ctx.store.corpId, date!) };
}

// ── routes ──────────────────────────────────────────────────────────────────

/** A member the caller reads: 41009 / 40003 for a bad userid, 60111 unknown or outside the app's visibility. */
function readableUser(ctx: ApiContext, payload: Record<string, unknown>): User {
  return existingUser(ctx.store, payload, ctx.caller);
}

export const userRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/user/create',
    access: 'write',
    okMsg: 'created',
    handle(ctx) {
      const { events } = applyUserCreate(ctx.store, ctx.body, ctx.caller, ctx.clock);
      for (const e of events) ctx.emit(e);
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/user/get',
    access: 'read',
    restrictedRead: true,
    emptyOnError: { department: [], order: [], is_leader_in_dept: [], direct_leader: [] },
    handle: (ctx) => userView(ctx.store, readableUser(ctx, queryPayload(ctx)), viewOptions(ctx)),
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/update',
    access: 'write',
    okMsg: 'updated',
    handle(ctx) {
      const { events } = applyUserUpdate(ctx.store, ctx.body, ctx.caller, ctx.clock);
      for (const e of events) ctx.emit(e);
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/user/delete',
    access: 'write',
    okMsg: 'deleted',
    handle(ctx) {
      const userid = readUserid(queryPayload(ctx));
      const { events } = applyUserDelete(ctx.store, [userid], ctx.caller);
      for (const e of events) ctx.emit(e);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/batchdelete',
    access: 'write',
    okMsg: 'deleted',
    handle(ctx) {
      const list = bodyArray(ctx.body, 'useridlist', isString, 40031);
      if (!list || list.length === 0) throw fail(40031, 'useridlist missing');
      if (list.length > BATCH_DELETE_MAX) throw fail(40032, `at most ${BATCH_DELETE_MAX} userids`);
      const malformed = list.find((id) => !isValidUserid(id));
      if (malformed !== undefined) throw fail(40031, `invalid userid ${malformed}`);
      // All or nothing: any unknown member or the creator fails the whole call (§3.2).
      const { events } = applyUserDelete(ctx.store, list, ctx.caller);
      for (const e of events) ctx.emit(e);
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/user/simplelist',
    access: 'read',
    restrictedRead: true,
    handle: (ctx) => ({ userlist: listedMembers(ctx).map((u) => userSimpleView(u, ctx.scope)) }),
  },
  {
    method: 'GET',
    path: '/cgi-bin/user/list',
    access: 'read',
    restrictedRead: true,
    handle(ctx) {
      const options = viewOptions(ctx, true);
      return { userlist: listedMembers(ctx).map((u) => userView(ctx.store, u, options)) };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/list_id',
    access: 'contact-only',
    emptyOnError: { dept_user: [] },
    handle: listIds,
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/convert_to_openid',
    access: 'read',
    handle(ctx) {
      const user = readableUser(ctx, ctx.body);
      // Only members who logged in with WeChat or follow the WeChat plug-in have an openid.
      if (!user.openid) throw fail(43004);
      return { openid: user.openid };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/convert_to_userid',
    access: 'read',
    handle(ctx) {
      const openid = bodyString(ctx.body, 'openid', 40073);
      if (!openid) throw fail(40073, 'openid missing');
      const user = ctx.store.userByOpenid(openid);
      if (!user) throw fail(40073);
      if (!ctx.scope.canSeeUser(user)) throw fail(60011);
      return { userid: user.userid };
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/user/authsucc',
    access: 'write',
    handle(ctx) {
      const user = existingUser(ctx.store, queryPayload(ctx), ctx.caller);
      // Two-factor join confirmation: a member who has not activated yet (4) joins (1).
      if (user.status === 4) {
        ctx.store.putUser({ ...user, status: 1 });
        ctx.emit({ ChangeType: 'update_user', UserID: user.userid, Status: 1 });
      }
      return {};
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/getuserid',
    access: 'read',
    handle(ctx) {
      const mobile = bodyString(ctx.body, 'mobile');
      if (mobile === undefined || byteLength(mobile) < GETUSERID_MOBILE_MIN_BYTES || byteLength(mobile) > GETUSERID_MOBILE_MAX_BYTES) {
        throw fail(40058, `mobile must be ${GETUSERID_MOBILE_MIN_BYTES}–${GETUSERID_MOBILE_MAX_BYTES} bytes`);
      }
      const user = ctx.store.userByMobile(mobile);
      if (!user || !ctx.scope.canSeeUser(user)) throw fail(46004);
      return { userid: user.userid };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/get_userid_by_email',
    access: 'read',
    handle(ctx) {
      const email = bodyString(ctx.body, 'email');
      if (!email) throw fail(40058, 'email missing');
      // 1 = enterprise mail (biz_mail, the default), 2 = personal email.
      const type = bodyIntOrUnset(ctx.body, 'email_type', 40058) ?? 1;
      if (type !== 1 && type !== 2) throw fail(40058, 'email_type must be 1 or 2');
      const user = type === 1 ? ctx.store.userByBizMail(email) : ctx.store.userByEmail(email);
      if (!user || !ctx.scope.canSeeUser(user)) throw fail(46004);
      return { userid: user.userid };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/user/get_active_stat',
    access: 'contact-only',
    handle: activeStat,
  },
];
