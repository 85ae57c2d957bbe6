import { userKey } from 'wecom-protocol/userid';
import type { ApiContext, Route } from './types.ts';
import type { ExtAttr } from '../model.ts';
import { fail } from '../errors.ts';
import { bodyBool } from './params.ts';
import {
  LINKED_NOT_VISIBLE_ERRCODE,
  type LinkedCorp,
  type LinkedUser,
  type LinkedView,
  linkedCorpsOf,
  linkedDepartmentId,
  linkedMembersOf,
  linkedSubtree,
  linkedUserId,
  linkedViewOf,
  parseLinkedDepartmentId,
  parseLinkedUserId,
} from '../linked-corp.ts';

/**
 * Linked corps (docs/wecom-api.md §8). All POST with JSON bodies, self-built apps only: the server
 * refuses the contacts-sync token with 48002 (`access: 'app-only'`) and the console has no access.
 * Ids are strings: users `"CORPID/USERID"`, departments `"LINKEDID/DEPARTMENTID"`; in
 * `department/list` the ids and parentid are bare strings and `order` an int, as documented.
 */

function agentOf(ctx: ApiContext): number {
  if (ctx.caller.kind !== 'app') throw fail(48002, 'this api may be called only by a self-built app');
  return ctx.caller.agentId;
}

interface Located {
  corp: LinkedCorp;
  view: LinkedView;
}

/** The linked department a call names, if the app may see it (60011 otherwise, see LINKED_NOT_VISIBLE_ERRCODE). */
function visibleDepartment(ctx: ApiContext): Located & { id: number } {
  const agentId = agentOf(ctx);
  const { linkedId, id } = parseLinkedDepartmentId(ctx.body['department_id'], 'department_id');
  const corp = linkedCorpsOf(ctx.store).find((c) => c.linkedId === linkedId);
  const view = corp && linkedViewOf(corp, agentId);
  if (!corp || !view || !corp.departments.has(id) || !view.departments.has(id)) {
    throw fail(LINKED_NOT_VISIBLE_ERRCODE, `department ${linkedId}/${id} is not in this app's linked visible range`);
  }
  return { corp, view, id };
}

/** The member's departments the app can see, as `"LINKEDID/ID"`. */
function visibleDepartmentsOf(located: Located, user: LinkedUser): string[] {
  return user.department.filter((d) => located.view.departments.has(d)).map((d) => linkedDepartmentId(located.corp, d));
}

/** Type 0 attributes carry their text twice (`value` and `text.value`), as in the documented example. */
function extattrView(attrs: ExtAttr[]) {
  return {
    attrs: attrs.map((a) =>
      a.type === 0
        ? { name: a.name, value: a.text?.value ?? '', type: 0, text: { value: a.text?.value ?? '' } }
        : a.type === 1
          ? { name: a.name, type: 1, web: { url: a.web?.url ?? '', title: a.web?.title ?? '' } }
          : { name: a.name, type: a.type, miniprogram: a.miniprogram },
    ),
  };
}

function simpleView(located: Located, u: LinkedUser) {
  return { userid: u.userid, name: u.name, department: visibleDepartmentsOf(located, u), corpid: located.corp.corpId };
}

function detailView(located: Located, u: LinkedUser) {
  return {
    userid: u.userid,
    name: u.name,
    department: visibleDepartmentsOf(located, u),
    mobile: u.mobile,
    telephone: u.telephone,
    email: u.email,
    position: u.position,
    corpid: located.corp.corpId,
    extattr: extattrView(u.extattr.attrs),
  };
}

/**
 * Members of a linked department: only that department by default; with `fetch_child` (true or 1)
 * its whole subtree, each member once, departments in list order.
 */
function membersListed(ctx: ApiContext): { located: Located; users: LinkedUser[] } {
  const located = visibleDepartment(ctx);
  const recurse = bodyBool(ctx.body, 'fetch_child') ?? false;
  const depts = recurse ? linkedSubtree(located.corp, located.id).map((d) => d.id) : [located.id];
  const seen = new Set<string>();
  const users: LinkedUser[] = [];
  for (const d of depts) {
    for (const u of linkedMembersOf(located.corp, d)) {
      const key = userKey(u.userid);
      if (!seen.has(key) && located.view.users.has(key)) {
        seen.add(key);
        users.push(u);
      }
    }
  }
  return { located, users };
}

export const linkedCorpRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/linkedcorp/agent/get_perm_list',
    access: 'app-only',
    handle(ctx) {
      const agentId = agentOf(ctx);
      const userids: string[] = [];
      const departmentIds: string[] = [];
      for (const corp of linkedCorpsOf(ctx.store)) {
        const perm = corp.permissions.get(agentId);
        if (!perm) continue;
        for (const u of perm.users) userids.push(linkedUserId(corp, u));
        for (const d of perm.departments) departmentIds.push(linkedDepartmentId(corp, d));
      }
      return { userids, department_ids: departmentIds };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/linkedcorp/user/get',
    access: 'app-only',
    handle(ctx) {
      const agentId = agentOf(ctx);
      const { corpId, userid } = parseLinkedUserId(ctx.body['userid'], 'userid');
      const corp = linkedCorpsOf(ctx.store).find((c) => c.corpId === corpId);
      const view = corp && linkedViewOf(corp, agentId);
      const user = corp?.users.get(userKey(userid));
      if (!corp || !view || !user || !view.users.has(userKey(userid))) {
        throw fail(LINKED_NOT_VISIBLE_ERRCODE, `member ${corpId}/${userid} is not in this app's linked visible range`);
      }
      return { user_info: detailView({ corp, view }, user) };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/linkedcorp/user/simplelist',
    access: 'app-only',
    handle(ctx) {
      const { located, users } = membersListed(ctx);
      return { userlist: users.map((u) => simpleView(located, u)) };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/linkedcorp/user/list',
    access: 'app-only',
    handle(ctx) {
      const { located, users } = membersListed(ctx);
      return { userlist: users.map((u) => detailView(located, u)) };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/linkedcorp/department/list',
    access: 'app-only',
    handle(ctx) {
      const { corp, view, id } = visibleDepartment(ctx);
      return {
        department_list: linkedSubtree(corp, id)
          .filter((d) => view.departments.has(d.id))
          .map((d) => ({ department_id: String(d.id), department_name: d.name, parentid: String(d.parentid), order: d.order })),
      };
    },
  },
];
