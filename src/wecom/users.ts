/** Members (成员管理, docs/wecom-api.md §3). */
import { endpoint, noResult, type CallOptions, type Invoke, type ReadBack } from './endpoint.ts';
import { WeComApiError } from './errors.ts';
import { LIST_ID_LIMIT_MAX } from 'wecom-protocol/limits';
import { arrayField, fromWire, stringField, toWire, type WireObject } from './wire.ts';

/** `gender` is a string on the wire: "1" male, "2" female, "0" undefined or withheld. */
export type Gender = '0' | '1' | '2';
/** 1 activated, 2 disabled, 4 not activated, 5 left the corp. */
export type UserStatus = 1 | 2 | 4 | 5;

export interface ExtAttr {
  /** 0 text, 1 web, 2 miniprogram. */
  type: 0 | 1 | 2;
  name: string;
  text?: { value: string };
  web?: { url: string; title: string };
  miniprogram?: { appid: string; pagepath: string; title: string };
}

export interface ExternalProfile {
  externalCorpName?: string;
  /** `status` (read only): 0 confirmed, 1 pending. */
  wechatChannels?: { nickname: string; status?: number };
  externalAttr?: ExtAttr[];
}

/** A member as `user/get` and `user/list` return it. Fields an app may not see are absent. */
export interface WeComUser {
  userid: string;
  name: string;
  department: number[];
  /** Per department, aligned with `department`; uint32 (larger sorts first). */
  order: number[];
  isLeaderInDept: number[];
  directLeader: string[];
  position?: string;
  mobile?: string;
  gender?: Gender;
  email?: string;
  bizMail?: string;
  avatar?: string;
  thumbAvatar?: string;
  telephone?: string;
  alias?: string;
  address?: string;
  openUserid?: string;
  mainDepartment?: number;
  extattr?: { attrs: ExtAttr[] };
  status?: UserStatus;
  qrCode?: string;
  externalPosition?: string;
  externalProfile?: ExternalProfile;
  /** Legacy field some responses still carry. */
  englishName?: string;
  enable?: 0 | 1;
}

/** A member as `user/simplelist` returns it. */
export interface WeComSimpleUser {
  userid: string;
  name: string;
  department: number[];
  openUserid?: string;
}

/** Fields of `user/create`. Required: userid, name, department, and mobile or email. */
export interface UserCreateInput {
  userid: string;
  name: string;
  department: number[];
  alias?: string;
  mobile?: string;
  /** Same length as `department`; each in [0, 2^32). */
  order?: number[];
  position?: string;
  gender?: '1' | '2';
  email?: string;
  bizMail?: string;
  telephone?: string;
  isLeaderInDept?: number[];
  directLeader?: string[];
  /** media_id of an image uploaded with media.upload. */
  avatarMediaid?: string;
  enable?: 0 | 1;
  extattr?: { attrs: ExtAttr[] };
  /** Default true: WeCom sends an invitation. */
  toInvite?: boolean;
  externalPosition?: string;
  externalProfile?: ExternalProfile;
  nickname?: string;
  address?: string;
  mainDepartment?: number;
}

/** Fields of `user/update`: the userid plus the fields to change (omitted fields stay as they are). */
export type UserUpdateInput = { userid: string; newUserid?: string } & Partial<Omit<UserCreateInput, 'userid' | 'toInvite'>>;

export interface UserIdPage {
  /** Absent or empty: no more pages. */
  nextCursor?: string;
  /** One row per (user, department): a member of N departments appears N times. */
  deptUser: { userid: string; department: number }[];
}

export function parseUser(wire: unknown): WeComUser {
  const user = fromWire<WeComUser>(wire);
  user.department ??= [];
  user.order ??= [];
  user.isLeaderInDept ??= [];
  user.directLeader ??= [];
  return user;
}

const sameArray = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const isUserNotFound = (err: unknown) => err instanceof WeComApiError && (err.errcode === 60111 || err.errcode === 46004);

/** Reads a member for a read-back: `undefined` when WeCom says it does not exist. */
async function findUser(invoke: Invoke, userid: string, options: CallOptions): Promise<WeComUser | undefined> {
  try {
    return await invoke(getUser, userid, options);
  } catch (err) {
    if (isUserNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Fields a read-back can compare: always returned to the caller and applied unconditionally.
 * Not mobile/email (silently ignored for activated members or Exmail corps) nor the fields
 * withheld from apps since 2022 (gender, address, biz_mail, avatar).
 */
function updateVisible(input: UserUpdateInput, user: WeComUser): boolean | undefined {
  const checks: boolean[] = [];
  if (input.name !== undefined) checks.push(user.name === input.name);
  if (input.alias !== undefined && user.alias !== undefined) checks.push(user.alias === input.alias);
  if (input.position !== undefined && user.position !== undefined) checks.push(user.position === input.position);
  if (input.telephone !== undefined && user.telephone !== undefined) checks.push(user.telephone === input.telephone);
  if (input.externalPosition !== undefined && user.externalPosition !== undefined)
    checks.push(user.externalPosition === input.externalPosition);
  if (input.department !== undefined) checks.push(sameArray([...user.department].sort(), [...input.department].sort()));
  if (input.directLeader !== undefined) checks.push(sameArray(user.directLeader, input.directLeader));
  if (input.mainDepartment !== undefined && user.mainDepartment !== undefined) checks.push(user.mainDepartment === input.mainDepartment);
  return checks.length ? checks.every(Boolean) : undefined;
}

export const createUser = endpoint<UserCreateInput, void>({
  method: 'POST',
  path: '/cgi-bin/user/create',
  token: 'contact',
  effect: 'write',
  body: (input) => toWire(input),
  parse: noResult,
  async readBack(input, invoke, options): Promise<ReadBack<void>> {
    const user = await findUser(invoke, input.userid, options);
    if (!user) return { applied: false };
    // Same userid and name: the lost create is the one that made it (else 60102 would have been the answer).
    if (user.name === input.name) return { applied: true, result: undefined };
    throw new Error('a member with this userid exists with other data');
  },
});

export const getUser = endpoint<string, WeComUser>({
  method: 'GET',
  path: '/cgi-bin/user/get',
  token: 'read',
  effect: 'read',
  query: (userid) => ({ userid }),
  parse: (wire) => parseUser(wire),
});

export const updateUser = endpoint<UserUpdateInput, void>({
  method: 'POST',
  path: '/cgi-bin/user/update',
  token: 'contact',
  effect: 'write',
  body: (input) => toWire(input),
  parse: noResult,
  async readBack(input, invoke, options): Promise<ReadBack<void>> {
    const user = await findUser(invoke, input.newUserid ?? input.userid, options);
    if (!user) {
      if (input.newUserid && (await findUser(invoke, input.userid, options))) return { applied: false };
      throw new Error('the member is gone');
    }
    const matches = updateVisible(input, user);
    if (matches === undefined) throw new Error('none of the updated fields can be read back');
    return matches ? { applied: true, result: undefined } : { applied: false };
  },
});

export const deleteUser = endpoint<string, void>({
  method: 'GET',
  path: '/cgi-bin/user/delete',
  token: 'contact',
  effect: 'write',
  query: (userid) => ({ userid }),
  parse: noResult,
  async readBack(userid, invoke, options): Promise<ReadBack<void>> {
    return (await findUser(invoke, userid, options)) ? { applied: false } : { applied: true, result: undefined };
  },
});

export const batchDeleteUsers = endpoint<string[], void>({
  method: 'POST',
  path: '/cgi-bin/user/batchdelete',
  token: 'contact',
  effect: 'write',
  body: (useridlist) => ({ useridlist }),
  parse: noResult,
  async readBack(userids, invoke, options): Promise<ReadBack<void>> {
    const found = await Promise.all(userids.map((u) => findUser(invoke, u, options)));
    const remaining = found.filter(Boolean).length;
    // batchdelete is all or nothing (§3.2): all gone = applied, all present = not applied.
    if (remaining === 0) return { applied: true, result: undefined };
    if (remaining === userids.length) return { applied: false };
    throw new Error('some of the members are gone and some are not');
  },
});

export const simpleListUsers = endpoint<{ departmentId: number; fetchChild?: boolean }, WeComSimpleUser[]>({
  method: 'GET',
  path: '/cgi-bin/user/simplelist',
  token: 'read',
  effect: 'read',
  query: (p) => ({ department_id: p.departmentId, fetch_child: p.fetchChild === undefined ? undefined : p.fetchChild ? 1 : 0 }),
  parse: (wire) =>
    arrayField<WireObject>(wire, 'userlist').map((u) => {
      const user = fromWire<WeComSimpleUser>(u);
      user.department ??= [];
      return user;
    }),
});

export const listUsers = endpoint<{ departmentId: number; fetchChild?: boolean }, WeComUser[]>({
  method: 'GET',
  path: '/cgi-bin/user/list',
  token: 'read',
  effect: 'read',
  query: (p) => ({ department_id: p.departmentId, fetch_child: p.fetchChild === undefined ? undefined : p.fetchChild ? 1 : 0 }),
  parse: (wire) => arrayField<WireObject>(wire, 'userlist').map(parseUser),
});

export const listUserIds = endpoint<{ cursor?: string; limit?: number }, UserIdPage>({
  method: 'POST',
  path: '/cgi-bin/user/list_id',
  token: 'contact',
  effect: 'read',
  // `limit` is always sent: whether WeCom defaults it is unconfirmed (§3.2).
  body: (p) => ({ ...(p.cursor ? { cursor: p.cursor } : {}), limit: p.limit ?? LIST_ID_LIMIT_MAX }),
  parse: (wire) => {
    const next = wire.next_cursor;
    return {
      ...(typeof next === 'string' && next !== '' ? { nextCursor: next } : {}),
      deptUser: arrayField<{ userid: string; department: number }>(wire, 'dept_user'),
    };
  },
});

export const convertToOpenid = endpoint<string, string>({
  method: 'POST',
  path: '/cgi-bin/user/convert_to_openid',
  token: 'read',
  effect: 'read',
  body: (userid) => ({ userid }),
  parse: (wire) => stringField(wire, 'openid'),
});

export const convertToUserid = endpoint<string, string>({
  method: 'POST',
  path: '/cgi-bin/user/convert_to_userid',
  token: 'read',
  effect: 'read',
  body: (openid) => ({ openid }),
  parse: (wire) => stringField(wire, 'userid'),
});

export const authSucc = endpoint<string, void>({
  method: 'GET',
  path: '/cgi-bin/user/authsucc',
  token: 'contact',
  effect: 'write',
  query: (userid) => ({ userid }),
  parse: noResult,
});

export const getUseridByMobile = endpoint<string, string>({
  method: 'POST',
  path: '/cgi-bin/user/getuserid',
  token: 'read',
  effect: 'read',
  body: (mobile) => ({ mobile }),
  parse: (wire) => stringField(wire, 'userid'),
});

/** 1 enterprise mail (default), 2 personal email. */
export type EmailType = 1 | 2;

export const getUseridByEmail = endpoint<{ email: string; emailType?: EmailType }, string>({
  method: 'POST',
  path: '/cgi-bin/user/get_userid_by_email',
  token: 'read',
  effect: 'read',
  body: (p) => ({ email: p.email, ...(p.emailType ? { email_type: p.emailType } : {}) }),
  parse: (wire) => stringField(wire, 'userid'),
});

export function usersApi(invoke: Invoke) {
  return {
    /** `POST /cgi-bin/user/create`: creates a member (contacts-sync secret). */
    create: (input: UserCreateInput, options?: CallOptions) => invoke(createUser, input, options),
    /** `GET /cgi-bin/user/get`: reads a member (userid is case-insensitive). */
    get: (userid: string, options?: CallOptions) => invoke(getUser, userid, options),
    /** `POST /cgi-bin/user/update`: changes the given fields of a member (contacts-sync secret). */
    update: (input: UserUpdateInput, options?: CallOptions) => invoke(updateUser, input, options),
    /** `GET /cgi-bin/user/delete`: deletes a member (contacts-sync secret). */
    delete: (userid: string, options?: CallOptions) => invoke(deleteUser, userid, options),
    /** `POST /cgi-bin/user/batchdelete`: deletes up to 200 members, all or nothing (contacts-sync secret). */
    batchDelete: (userids: string[], options?: CallOptions) => invoke(batchDeleteUsers, userids, options),
    /** `GET /cgi-bin/user/simplelist`: a department's members, userid and name only. */
    simpleList: (departmentId: number, opts: { fetchChild?: boolean } & CallOptions = {}) =>
      invoke(simpleListUsers, { departmentId, fetchChild: opts.fetchChild }, opts),
    /** `GET /cgi-bin/user/list`: a department's members with details. */
    list: (departmentId: number, opts: { fetchChild?: boolean } & CallOptions = {}) =>
      invoke(listUsers, { departmentId, fetchChild: opts.fetchChild }, opts),
    /** `POST /cgi-bin/user/list_id`: one page of (userid, department) pairs of the whole corp (contacts-sync secret). */
    listIds: (page: { cursor?: string; limit?: number } = {}, options?: CallOptions) => invoke(listUserIds, page, options),
    /** `POST /cgi-bin/user/list_id`, every page: all (userid, department) pairs of the corp. */
    listAllIds: async (opts: { limit?: number } & CallOptions = {}) => {
      const rows: UserIdPage['deptUser'] = [];
      let cursor: string | undefined;
      do {
        const page = await invoke(listUserIds, { cursor, limit: opts.limit }, opts);
        for (const row of page.deptUser) rows.push(row);
        cursor = page.nextCursor;
      } while (cursor);
      return rows;
    },
    /** `POST /cgi-bin/user/convert_to_openid`: the member's openid (enterprise payments). */
    convertToOpenid: (userid: string, options?: CallOptions) => invoke(convertToOpenid, userid, options),
    /** `POST /cgi-bin/user/convert_to_userid`: the userid for an openid. */
    convertToUserid: (openid: string, options?: CallOptions) => invoke(convertToUserid, openid, options),
    /** `GET /cgi-bin/user/authsucc`: confirms a member's two-factor join (contacts-sync secret). */
    authSucc: (userid: string, options?: CallOptions) => invoke(authSucc, userid, options),
    /** `POST /cgi-bin/user/getuserid`: the userid of a mobile number (46004 when none). */
    getUseridByMobile: (mobile: string, options?: CallOptions) => invoke(getUseridByMobile, mobile, options),
    /** `POST /cgi-bin/user/get_userid_by_email`: the userid of an email (46004 when none). */
    getUseridByEmail: (email: string, opts: { emailType?: EmailType } & CallOptions = {}) =>
      invoke(getUseridByEmail, { email, emailType: opts.emailType }, opts),
  };
}

export type UsersApi = ReturnType<typeof usersApi>;
