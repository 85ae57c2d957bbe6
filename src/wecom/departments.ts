/** Departments (部门管理, docs/wecom-api.md §4). */
import { endpoint, noResult, type CallOptions, type Invoke, type ReadBack } from './endpoint.ts';
import { WeComApiError } from './errors.ts';
import { arrayField, fromWire, numberField, type WireObject } from './wire.ts';

export interface WeComDepartment {
  id: number;
  name: string;
  /** Only when set (and multi-language is enabled). */
  nameEn?: string;
  /** The root department (id 1) has parentid 0. */
  parentid: number;
  /** uint32; larger sorts first. */
  order: number;
  departmentLeader: string[];
}

/** An entry of `department/simplelist`. */
export interface WeComDepartmentRef {
  id: number;
  parentid: number;
  order: number;
}

export interface DepartmentCreateInput {
  name: string;
  nameEn?: string;
  parentid: number;
  order?: number;
  /** > 1; WeCom picks one when omitted. */
  id?: number;
}

export type DepartmentUpdateInput = { id: number } & Partial<Omit<DepartmentCreateInput, 'id'>>;

function parseDepartment(wire: unknown): WeComDepartment {
  const dept = fromWire<WeComDepartment>(wire);
  dept.departmentLeader ??= [];
  return dept;
}

const wireDepartment = (input: DepartmentCreateInput | DepartmentUpdateInput): WireObject => ({
  ...(input.id !== undefined ? { id: input.id } : {}),
  ...(input.name !== undefined ? { name: input.name } : {}),
  ...(input.nameEn !== undefined ? { name_en: input.nameEn } : {}),
  ...(input.parentid !== undefined ? { parentid: input.parentid } : {}),
  ...(input.order !== undefined ? { order: input.order } : {}),
});

/** Reads a department for a read-back: `undefined` when WeCom says it does not exist. */
async function findDepartment(invoke: Invoke, id: number, options: CallOptions): Promise<WeComDepartment | undefined> {
  try {
    return await invoke(getDepartment, id, options);
  } catch (err) {
    if (err instanceof WeComApiError && err.errcode === 60003) return undefined;
    throw err;
  }
}

export const createDepartment = endpoint<DepartmentCreateInput, { id: number }>({
  method: 'POST',
  path: '/cgi-bin/department/create',
  token: 'contact',
  effect: 'write',
  body: wireDepartment,
  parse: (wire) => ({ id: numberField(wire, 'id') }),
  async readBack(input, invoke, options): Promise<ReadBack<{ id: number }>> {
    if (input.id !== undefined) {
      const dept = await findDepartment(invoke, input.id, options);
      if (!dept) return { applied: false };
      if (dept.name === input.name && dept.parentid === input.parentid) return { applied: true, result: { id: dept.id } };
      throw new Error('a department with this id exists with other data');
    }
    // No id given: find the new child by name (sibling names are unique, 60008).
    const subtree = await invoke(listDepartments, input.parentid, options);
    const child = subtree.find((d) => d.parentid === input.parentid && d.name === input.name);
    return child ? { applied: true, result: { id: child.id } } : { applied: false };
  },
});

export const updateDepartment = endpoint<DepartmentUpdateInput, void>({
  method: 'POST',
  path: '/cgi-bin/department/update',
  token: 'contact',
  effect: 'write',
  body: wireDepartment,
  parse: noResult,
  async readBack(input, invoke, options): Promise<ReadBack<void>> {
    const dept = await findDepartment(invoke, input.id, options);
    if (!dept) throw new Error('the department is gone');
    const applied =
      (input.name === undefined || dept.name === input.name) &&
      (input.nameEn === undefined || (dept.nameEn ?? '') === input.nameEn) &&
      (input.parentid === undefined || dept.parentid === input.parentid) &&
      (input.order === undefined || dept.order === input.order);
    return applied ? { applied: true, result: undefined } : { applied: false };
  },
});

export const deleteDepartment = endpoint<number, void>({
  method: 'GET',
  path: '/cgi-bin/department/delete',
  token: 'contact',
  effect: 'write',
  query: (id) => ({ id }),
  parse: noResult,
  async readBack(id, invoke, options): Promise<ReadBack<void>> {
    return (await findDepartment(invoke, id, options)) ? { applied: false } : { applied: true, result: undefined };
  },
});

export const listDepartments = endpoint<number | undefined, WeComDepartment[]>({
  method: 'GET',
  path: '/cgi-bin/department/list',
  token: 'read',
  effect: 'read',
  query: (id) => ({ id }),
  parse: (wire) => arrayField<WireObject>(wire, 'department').map(parseDepartment),
});

export const simpleListDepartments = endpoint<number | undefined, WeComDepartmentRef[]>({
  method: 'GET',
  path: '/cgi-bin/department/simplelist',
  token: 'read',
  effect: 'read',
  query: (id) => ({ id }),
  // The array key is `department_id`, its items are objects (§4).
  parse: (wire) => arrayField<WeComDepartmentRef>(wire, 'department_id'),
});

export const getDepartment = endpoint<number, WeComDepartment>({
  method: 'GET',
  path: '/cgi-bin/department/get',
  token: 'read',
  effect: 'read',
  query: (id) => ({ id }),
  parse: (wire) => {
    const dept = wire.department;
    if (!dept || typeof dept !== 'object') throw new TypeError('WeCom response field department is not an object');
    return parseDepartment(dept);
  },
});

export function departmentsApi(invoke: Invoke) {
  return {
    /** `POST /cgi-bin/department/create`: creates a department; returns its id (contacts-sync secret). */
    create: (input: DepartmentCreateInput, options?: CallOptions) => invoke(createDepartment, input, options),
    /** `POST /cgi-bin/department/update`: renames, moves or reorders a department (contacts-sync secret). */
    update: (input: DepartmentUpdateInput, options?: CallOptions) => invoke(updateDepartment, input, options),
    /** `GET /cgi-bin/department/delete`: deletes an empty department (contacts-sync secret). */
    delete: (id: number, options?: CallOptions) => invoke(deleteDepartment, id, options),
    /** `GET /cgi-bin/department/list`: a department and all its descendants (all visible ones when `id` is omitted). */
    list: (id?: number, options?: CallOptions) => invoke(listDepartments, id, options),
    /** `GET /cgi-bin/department/simplelist`: ids, parents and orders of a subtree (not restricted for contacts sync). */
    simpleList: (id?: number, options?: CallOptions) => invoke(simpleListDepartments, id, options),
    /** `GET /cgi-bin/department/get`: one department. */
    get: (id: number, options?: CallOptions) => invoke(getDepartment, id, options),
  };
}

export type DepartmentsApi = ReturnType<typeof departmentsApi>;
