/**
 * Linked corps (互联企业, docs/wecom-api.md §8): POST-only, self-built apps only. Ids are composite
 * strings: users `CORPID/USERID`, departments `LINKEDID/DEPARTMENTID`; they stay strings here.
 */
import { endpoint, type CallOptions, type Invoke } from './endpoint.ts';
import type { ExtAttr } from './users.ts';
import { arrayField, fromWire, type WireObject } from './wire.ts';

export interface LinkedUser {
  /** `CORPID/USERID`. */
  userid: string;
  name: string;
  /** `LINKEDID/DEPARTMENTID` strings. */
  department: string[];
  corpid: string;
  mobile?: string;
  telephone?: string;
  email?: string;
  position?: string;
  /** Linked-corp attrs may carry a top-level `value` besides `text`/`web`. */
  extattr?: { attrs: (ExtAttr & { value?: string })[] };
}

export type LinkedSimpleUser = Pick<LinkedUser, 'userid' | 'name' | 'department' | 'corpid'>;

export interface LinkedDepartment {
  /** A string id within the linked corp. */
  departmentId: string;
  departmentName: string;
  /** A string, like the id ("0" for a root). */
  parentid: string;
  order: number;
}

export interface LinkedPermList {
  userids: string[];
  departmentIds: string[];
}

function parseLinkedUser(wire: unknown): LinkedUser {
  const user = fromWire<LinkedUser>(wire);
  user.department ??= [];
  return user;
}

const departmentBody = (p: { departmentId: string; fetchChild?: boolean }): WireObject => ({
  department_id: p.departmentId,
  // Boolean in the doc's example; the default is "this department only".
  ...(p.fetchChild !== undefined ? { fetch_child: p.fetchChild } : {}),
});

export const getPermList = endpoint<undefined, LinkedPermList>({
  method: 'POST',
  path: '/cgi-bin/linkedcorp/agent/get_perm_list',
  token: 'app',
  effect: 'read',
  body: () => ({}),
  parse: (wire) => ({ userids: arrayField<string>(wire, 'userids'), departmentIds: arrayField<string>(wire, 'department_ids') }),
});

export const getLinkedUser = endpoint<string, LinkedUser>({
  method: 'POST',
  path: '/cgi-bin/linkedcorp/user/get',
  token: 'app',
  effect: 'read',
  body: (userid) => ({ userid }),
  parse: (wire) => {
    if (!wire.user_info || typeof wire.user_info !== 'object') throw new TypeError('WeCom response field user_info is not an object');
    return parseLinkedUser(wire.user_info);
  },
});

export const simpleListLinkedUsers = endpoint<{ departmentId: string; fetchChild?: boolean }, LinkedSimpleUser[]>({
  method: 'POST',
  path: '/cgi-bin/linkedcorp/user/simplelist',
  token: 'app',
  effect: 'read',
  body: departmentBody,
  parse: (wire) => arrayField<WireObject>(wire, 'userlist').map(parseLinkedUser),
});

export const listLinkedUsers = endpoint<{ departmentId: string; fetchChild?: boolean }, LinkedUser[]>({
  method: 'POST',
  path: '/cgi-bin/linkedcorp/user/list',
  token: 'app',
  effect: 'read',
  body: departmentBody,
  parse: (wire) => arrayField<WireObject>(wire, 'userlist').map(parseLinkedUser),
});

export const listLinkedDepartments = endpoint<string, LinkedDepartment[]>({
  method: 'POST',
  path: '/cgi-bin/linkedcorp/department/list',
  token: 'app',
  effect: 'read',
  body: (departmentId) => ({ department_id: departmentId }),
  parse: (wire) => arrayField<WireObject>(wire, 'department_list').map((d) => fromWire<LinkedDepartment>(d)),
});

export function linkedCorpApi(invoke: Invoke) {
  return {
    /** `POST /cgi-bin/linkedcorp/agent/get_perm_list`: the linked users and departments the app may see. */
    getPermList: (options?: CallOptions) => invoke(getPermList, undefined, options),
    /** `POST /cgi-bin/linkedcorp/user/get`: a linked user by `CORPID/USERID`. */
    getUser: (userid: string, options?: CallOptions) => invoke(getLinkedUser, userid, options),
    /** `POST /cgi-bin/linkedcorp/user/simplelist`: a linked department's members (basic). */
    simpleListUsers: (departmentId: string, opts: { fetchChild?: boolean } & CallOptions = {}) =>
      invoke(simpleListLinkedUsers, { departmentId, fetchChild: opts.fetchChild }, opts),
    /** `POST /cgi-bin/linkedcorp/user/list`: a linked department's members with details. */
    listUsers: (departmentId: string, opts: { fetchChild?: boolean } & CallOptions = {}) =>
      invoke(listLinkedUsers, { departmentId, fetchChild: opts.fetchChild }, opts),
    /** `POST /cgi-bin/linkedcorp/department/list`: a linked department and its sub-departments. */
    listDepartments: (departmentId: string, options?: CallOptions) => invoke(listLinkedDepartments, departmentId, options),
  };
}

export type LinkedCorpApi = ReturnType<typeof linkedCorpApi>;
