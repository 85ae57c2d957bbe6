import { randomBytes } from 'node:crypto';
import type { ApiContext, Route } from './types.ts';
import type { CorpStore } from '../store.ts';
import type { App } from '../model.ts';
import { fail } from '../errors.ts';
import { bodyArray, isInt32, isString, queryInt } from './params.ts';
import {
  INVITE_PARTIES_MAX,
  INVITE_TAGS_MAX,
  INVITE_USERS_MAX,
  JOIN_QRCODE_SIZE_TYPE_MAX,
  JOIN_QRCODE_SIZE_TYPE_MIN,
} from 'wecom-protocol/limits';

/**
 * Corp-level endpoints: invitations and the join QR code (docs/wecom-api.md §3.2), the apps' details
 * and visibility, and the addresses WeCom's callbacks come from (§14).
 */

/**
 * agent/get for an app the token does not belong to (another app, an unknown agentid, or the
 * contacts-sync secret, which is no app). Unconfirmed (§14): 301002 "no privilege to
 * access/modify agent" is the code SDK tables give for it.
 */
export const AGENT_NO_PRIVILEGE_ERRCODE = 301002;

/** agent/get's answer: the app's details and its visible range as configured (§14). */
function agentView(store: CorpStore, app: App) {
  // Entries deleted since they were made visible are not listed (renames are carried along by user-rules.ts).
  const users = app.visibility.users.filter((u) => store.getUser(u)).map((u) => store.getUser(u)!.userid);
  return {
    agentid: app.agentId,
    name: app.name,
    square_logo_url: app.squareLogoUrl,
    description: app.description,
    allow_userinfos: { user: users.map((userid) => ({ userid })) },
    allow_partys: { partyid: app.visibility.departments.filter((d) => store.getDepartment(d)) },
    allow_tags: { tagid: app.visibility.tags.filter((t) => store.tags.has(t)) },
    close: app.close,
    redirect_domain: app.redirectDomain,
    report_location_flag: app.reportLocationFlag,
    isreportenter: app.isReportEnter,
    home_url: app.homeUrl,
  };
}

/** The apps a caller may read: its own app; every app for the admin console; none for contacts sync. */
function readableApps(ctx: ApiContext): App[] {
  const caller = ctx.caller;
  if (caller.kind === 'console') return ctx.store.apps;
  if (caller.kind === 'app') return ctx.store.apps.filter((a) => a.agentId === caller.agentId);
  return [];
}

/**
 * batch/invite with more than 1000 users, 100 departments or 100 tags, with all three lists
 * empty, or with a list that is not an array. The fact sheet names no code for invite; 40035
 * "invalid parameter" is the one its help text gives for these cases elsewhere (unconfirmed).
 */
export const INVITE_BAD_LISTS_ERRCODE = 40035;

/**
 * corp/get_join_qrcode without `size_type`. Unconfirmed (docs/wecom-api.md §13): 3 (741×741) is the
 * size of the doc's example link.
 */
export const JOIN_QRCODE_DEFAULT_SIZE_TYPE = 3;

/** One accepted batch/invite call, as the admin API shows it (not part of WeCom). */
export interface Invitation {
  user: string[];
  party: number[];
  tag: number[];
  /** Emulator clock, Unix seconds. */
  invitedAt: number;
}

/** Invitations live beside the store they belong to, so a reseed starts with none. */
const invitations = new WeakMap<CorpStore, Invitation[]>();

/** The invitations sent in this corp so far, oldest first (`GET /__emulator/invitations`). */
export function invitationsOf(store: CorpStore): Invitation[] {
  let list = invitations.get(store);
  if (!list) invitations.set(store, (list = []));
  return list;
}

export const corpRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/batch/invite',
    access: 'write',
    handle(ctx) {
      const { store, scope, body } = ctx;
      const user = bodyArray(body, 'user', isString, INVITE_BAD_LISTS_ERRCODE) ?? [];
      const party = bodyArray(body, 'party', isInt32, INVITE_BAD_LISTS_ERRCODE) ?? [];
      const tag = bodyArray(body, 'tag', isInt32, INVITE_BAD_LISTS_ERRCODE) ?? [];
      if (!user.length && !party.length && !tag.length) {
        throw fail(INVITE_BAD_LISTS_ERRCODE, 'user, party and tag are all empty');
      }
      if (user.length > INVITE_USERS_MAX) throw fail(INVITE_BAD_LISTS_ERRCODE, `at most ${INVITE_USERS_MAX} users`);
      if (party.length > INVITE_PARTIES_MAX) throw fail(INVITE_BAD_LISTS_ERRCODE, `at most ${INVITE_PARTIES_MAX} departments`);
      if (tag.length > INVITE_TAGS_MAX) throw fail(INVITE_BAD_LISTS_ERRCODE, `at most ${INVITE_TAGS_MAX} tags`);

      // Unknown or unauthorised targets are reported back; the rest is still invited (§3.2).
      const invaliduser: string[] = [];
      const invitedUsers: string[] = [];
      for (const userid of user) {
        const found = store.getUser(userid);
        if (found && scope.canSeeUser(found)) invitedUsers.push(found.userid);
        else invaliduser.push(userid);
      }
      const invalidparty = party.filter((id) => !store.getDepartment(id) || !scope.canSeeDepartment(id));
      const invalidtag = tag.filter((id) => !store.tags.has(id));
      const invitation: Invitation = {
        user: invitedUsers,
        party: party.filter((id) => !invalidparty.includes(id)),
        tag: tag.filter((id) => !invalidtag.includes(id)),
        invitedAt: ctx.clock.nowSeconds(),
      };
      if (invitation.user.length || invitation.party.length || invitation.tag.length) {
        invitationsOf(store).push(invitation);
      }
      return { invaliduser, invalidparty, invalidtag };
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/corp/get_join_qrcode',
    access: 'contact-only',
    handle(ctx) {
      // size_type=0 is an SDK's "not set": WeCom's default size.
      const size = queryInt(ctx.query, 'size_type', 40058) || JOIN_QRCODE_DEFAULT_SIZE_TYPE;
      if (size < JOIN_QRCODE_SIZE_TYPE_MIN || size > JOIN_QRCODE_SIZE_TYPE_MAX) {
        throw fail(40058, `size_type must be ${JOIN_QRCODE_SIZE_TYPE_MIN}–${JOIN_QRCODE_SIZE_TYPE_MAX}`);
      }
      // The link is valid for 7 days (JOIN_QRCODE_VALID_SECONDS); the emulator does not serve it.
      const vcode = randomBytes(16).toString('hex');
      return {
        join_qrcode: `https://work.weixin.qq.com/wework_admin/genqrcode?action=join&vcode=${vcode}&r=hb_share_api_mjoin&qr_size=${size}`,
      };
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/agent/get',
    access: 'read',
    handle(ctx) {
      const agentId = queryInt(ctx.query, 'agentid', 40056);
      if (agentId === undefined) throw fail(41011);
      const app = readableApps(ctx).find((a) => a.agentId === agentId);
      if (!app) throw fail(AGENT_NO_PRIVILEGE_ERRCODE, `this token may not read agent ${agentId}`);
      return agentView(ctx.store, app);
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/agent/list',
    access: 'read',
    handle: (ctx) => ({
      agentlist: readableApps(ctx).map((a) => ({ agentid: a.agentId, name: a.name, square_logo_url: a.squareLogoUrl })),
    }),
  },
  {
    method: 'GET',
    path: '/cgi-bin/getcallbackip',
    // Any valid token (the fact sheet names no restriction).
    access: 'read',
    handle: (ctx) => ({ ip_list: [...ctx.options.callbackIps] }),
  },
];
