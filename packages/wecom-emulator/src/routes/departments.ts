import type { ApiContext, Route } from './types.ts';
import type { Department } from '../model.ts';
import { fail } from '../errors.ts';
import { bodyInt, bodyIntOrUnset, bodyOrder, bodyString, queryInt } from './params.ts';
import {
  DEPARTMENT_CHILD_NODES_MAX,
  DEPARTMENT_MAX_DEPTH,
  DEPARTMENT_NAME_FORBIDDEN,
  DEPARTMENT_NAME_MAX_CHARS,
  DEPARTMENTS_PER_CORP_MAX,
  ROOT_DEPARTMENT_ID,
  charLength,
} from 'wecom-protocol/limits';

/** Departments (docs/wecom-api.md §4). */

function checkName(name: string | undefined, field: string): void {
  if (name === undefined) return;
  if (name.trim() === '' || charLength(name) > DEPARTMENT_NAME_MAX_CHARS) {
    throw fail(60001, `${field} must be 1–${DEPARTMENT_NAME_MAX_CHARS} characters`);
  }
  if (DEPARTMENT_NAME_FORBIDDEN.test(name)) throw fail(60009, `${field} must not contain \\ : * ? " < > |`);
}

function siblingNameTaken(ctx: ApiContext, parentId: number, name: string, self?: number): boolean {
  return ctx.store.childIds(parentId).some((id) => id !== self && ctx.store.getDepartment(id)!.name === name);
}

/** The read shape of a department; `name_en` only when set. */
export function departmentView(d: Department) {
  return {
    id: d.id,
    name: d.name,
    ...(d.name_en ? { name_en: d.name_en } : {}),
    department_leader: [...d.department_leader],
    parentid: d.parentid,
    order: d.order,
  };
}

/** A department the caller may read: 60003 when unknown, 60011 when outside the app's visibility. */
function visibleDepartment(ctx: ApiContext, id: number | undefined): Department {
  if (id === undefined) throw fail(60003, 'id missing');
  const dept = ctx.store.getDepartment(id);
  if (!dept) throw fail(60003);
  if (!ctx.scope.canSeeDepartment(id)) throw fail(60011);
  return dept;
}

/** The departments a list call covers: a visible subtree, or everything the caller sees. */
function listed(ctx: ApiContext): Department[] {
  const id = queryInt(ctx.query, 'id', 60123);
  if (id !== undefined) return ctx.store.subtree(visibleDepartment(ctx, id).id).filter((d) => ctx.scope.canSeeDepartment(d.id));
  if (ctx.scope.all) return ctx.store.subtree(ROOT_DEPARTMENT_ID);
  return ctx.scope.rootDepartments().flatMap((root) => ctx.store.subtree(root.id));
}

export const departmentRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/department/create',
    access: 'write',
    okMsg: 'created',
    handle(ctx) {
      const { store, body } = ctx;
      const name = bodyString(body, 'name', 60001);
      if (name === undefined) throw fail(60001, 'name missing');
      checkName(name, 'name');
      const nameEn = bodyString(body, 'name_en', 60001);
      checkName(nameEn, 'name_en');
      const parentid = bodyInt(body, 'parentid', 60124);
      if (parentid === undefined) throw fail(60004, 'parentid missing');
      if (!store.getDepartment(parentid)) throw fail(60004);
      const order = bodyOrder(body) ?? 0;
      // 0 is no department id (the root is 1): an SDK's "not set", so WeCom picks the id.
      let id = bodyIntOrUnset(body, 'id', 60123);
      if (id !== undefined && id <= ROOT_DEPARTMENT_ID) throw fail(60123, 'id must be greater than 1');
      if (id !== undefined && store.getDepartment(id)) throw fail(60008, `department ${id} already exists`);
      if (siblingNameTaken(ctx, parentid, name)) throw fail(60008, `a sibling is already named ${name}`);
      if (store.depth(parentid) + 1 > DEPARTMENT_MAX_DEPTH) throw fail(81002);
      if (store.childNodeCount(parentid) >= DEPARTMENT_CHILD_NODES_MAX) throw fail(81001);
      if (store.departments.size >= DEPARTMENTS_PER_CORP_MAX) throw fail(81001, 'at most 30000 departments per corp');
      id ??= Math.max(...store.departments.keys()) + 1;
      store.putDepartment({ id, name, name_en: nameEn ?? '', parentid, order, department_leader: [], created_seq: store.nextSeq() });
      ctx.emit({ ChangeType: 'create_party', Id: id, Name: name, ParentId: parentid, Order: order });
      return { id };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/department/update',
    access: 'write',
    okMsg: 'updated',
    handle(ctx) {
      const { store, body } = ctx;
      const id = bodyInt(body, 'id', 60123);
      if (id === undefined) throw fail(60003, 'id missing');
      const dept = store.getDepartment(id);
      if (!dept) throw fail(60003);
      const name = bodyString(body, 'name', 60001);
      checkName(name, 'name');
      const nameEn = bodyString(body, 'name_en', 60001);
      checkName(nameEn, 'name_en');
      const order = bodyOrder(body);
      const parentid = bodyInt(body, 'parentid', 60124);
      const moving = parentid !== undefined && parentid !== dept.parentid;
      if (moving) {
        if (id === ROOT_DEPARTMENT_ID) throw fail(60010, 'the root department cannot move');
        if (!store.getDepartment(parentid)) throw fail(60004);
        if (store.isSelfOrAncestor(id, parentid)) throw fail(60010);
        if (store.depth(parentid) + store.height(id) > DEPARTMENT_MAX_DEPTH) throw fail(81002);
        if (store.childNodeCount(parentid) >= DEPARTMENT_CHILD_NODES_MAX) throw fail(81001);
      }
      const targetParent = moving ? parentid : dept.parentid;
      const targetName = name ?? dept.name;
      if ((moving || name !== undefined) && siblingNameTaken(ctx, targetParent, targetName, id)) {
        throw fail(60008, `a sibling is already named ${targetName}`);
      }
      const renamed = name !== undefined && name !== dept.name;
      store.putDepartment({
        ...dept,
        name: targetName,
        name_en: nameEn ?? dept.name_en,
        parentid: targetParent,
        order: order ?? dept.order,
      });
      if (renamed || moving) {
        ctx.emit({
          ChangeType: 'update_party',
          Id: id,
          ...(renamed ? { Name: targetName } : {}),
          ...(moving ? { ParentId: targetParent } : {}),
        });
      }
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/department/delete',
    access: 'write',
    okMsg: 'deleted',
    handle(ctx) {
      const { store } = ctx;
      const id = queryInt(ctx.query, 'id', 60123);
      if (id === undefined) throw fail(60003, 'id missing');
      if (id === ROOT_DEPARTMENT_ID) throw fail(60007);
      if (!store.getDepartment(id)) throw fail(60003);
      if (store.childIds(id).length) throw fail(60006);
      if (store.memberCount(id)) throw fail(60005);
      store.removeDepartment(id);
      for (const tag of store.tags.values()) tag.parties.delete(id);
      store.touch();
      ctx.emit({ ChangeType: 'delete_party', Id: id });
      return {};
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/department/list',
    access: 'read',
    restrictedRead: true,
    emptyOnError: { department: [] },
    handle: (ctx) => ({ department: listed(ctx).map(departmentView) }),
  },
  {
    method: 'GET',
    path: '/cgi-bin/department/simplelist',
    access: 'read',
    emptyOnError: { department_id: [] },
    handle: (ctx) => ({
      department_id: listed(ctx).map((d) => ({ id: d.id, parentid: d.parentid, order: d.order })),
    }),
  },
  {
    method: 'GET',
    path: '/cgi-bin/department/get',
    access: 'read',
    restrictedRead: true,
    handle: (ctx) => ({ department: departmentView(visibleDepartment(ctx, queryInt(ctx.query, 'id', 60123))) }),
  },
];
