import { describe, expect } from 'vitest';
import type { ServiceHarness } from '../helpers/service.ts';
import { serviceTest } from '../testkit/service.ts';
import { graphql } from '../generated/index.ts';
import { success } from '../helpers/mutations.ts';

const it = serviceTest();

interface WireDept {
  id: number;
  name: string;
  name_en?: string;
  parentid: number;
  order: number;
  department_leader: string[];
}

async function tree(service: ServiceHarness): Promise<WireDept[]> {
  return (await service.wecom.console('department/list')).json.department;
}

async function wecomDept(service: ServiceHarness, id: number): Promise<WireDept | undefined> {
  return (await tree(service)).find((d) => d.id === id);
}

// The departments' fields every payload below asks for (codegen reads the fragment from this call).
graphql(`fragment MutatedDepartment on Department { departmentId name nameEn parentId order parent { departmentId } }`);
const CREATE = graphql(`mutation CreateDepartment($input: CreateDepartmentInput!) {
  createDepartment(input: $input) { __typename ...ErrorFields ... on MutationCreateDepartmentSuccess { data { ...MutatedDepartment } } }
}`);
const UPDATE = graphql(`mutation UpdateDepartment($input: UpdateDepartmentInput!) {
  updateDepartment(input: $input) { __typename ...ErrorFields ... on MutationUpdateDepartmentSuccess { data { ...MutatedDepartment } } }
}`);
const DELETE = graphql(`mutation DeleteDepartment($id: Int!) {
  deleteDepartment(departmentId: $id) { __typename ...ErrorFields ... on MutationDeleteDepartmentSuccess { data { departmentId } } }
}`);
const CHILDREN = graphql(`query CreatedDepartment($id: Int!) { department(id: $id) { name children { departmentId } } }`);
const CHILD_NAMES = graphql(`query DepartmentChildNames($id: Int!) { department(id: $id) { children { departmentId name } } }`);
const NAME = graphql(`query DepartmentName($id: Int!) { department(id: $id) { name } }`);

const expected = (d: WireDept) => ({
  departmentId: d.id,
  name: d.name,
  nameEn: d.name_en || null,
  parentId: d.parentid,
  order: d.order,
  parent: { departmentId: d.parentid },
});

describe('createDepartment', () => {
  it('creates a department with an id WeCom picks, and with one of ours; later reads see both', async ({ service, execute, published }) => {
    const picked = await execute(CREATE, { input: { name: '新部门', parentId: 2, order: 4294967295 } });
    const id = success(picked.data!.createDepartment).data.departmentId;
    const stored = await wecomDept(service, id);
    expect(stored).toMatchObject({ name: '新部门', parentid: 2, order: 4294967295 });
    expect(picked.data!.createDepartment).toEqual({ __typename: 'MutationCreateDepartmentSuccess', data: expected(stored!) });
    expect(published).toEqual([{ kind: 'DEPARTMENT_CREATED', departmentId: id, parentId: 2, source: 'mutation' }]);

    const chosen = await execute(CREATE, { input: { name: 'Chosen', nameEn: 'Chosen EN', parentId: id, departmentId: 90001 } });
    expect(chosen.data!.createDepartment).toEqual({
      __typename: 'MutationCreateDepartmentSuccess',
      data: expected((await wecomDept(service, 90001))!),
    });
    expect(success(chosen.data!.createDepartment).data).toMatchObject({ departmentId: 90001, nameEn: 'Chosen EN', parentId: id });
    expect((await service.calls())['/cgi-bin/department/create']).toBe(2);

    const later = await execute(CHILDREN, { id });
    expect(later.data!.department).toEqual({ name: '新部门', children: [{ departmentId: 90001 }] });
  });

  it.for([
    ['an empty name', { name: ' ' }, 'input.name'],
    ['a name of 33 characters', { name: '部'.repeat(33) }, 'input.name'],
    ['a name with a forbidden character', { name: 'R&D: core' }, 'input.name'],
    ['a name with a pipe', { name: 'a|b' }, 'input.name'],
    ['an English name with a quote', { nameEn: 'say "hi"' }, 'input.nameEn'],
    ['parent 0', { parentId: 0 }, 'input.parentId'],
    ['id 1 (the root)', { departmentId: 1 }, 'input.departmentId'],
  ] as const)('refuses %s before calling WeCom', async ([_what, change, field], { service, execute }) => {
    const before = await tree(service);
    const res = await execute(CREATE, { input: { name: 'Valid', parentId: 2, ...change } });
    expect(res.data!.createDepartment).toMatchObject({ __typename: 'ValidationError', field, errcode: null });
    expect((await service.wecom.stats()).total).toBe(0);
    expect(await tree(service)).toEqual(before);
  });

  it.for([
    [
      'a sibling’s name',
      (t: WireDept[]) => ({ name: t.find((d) => d.parentid === 1)!.name, parentId: 1 }),
      'AlreadyExistsError',
      60008,
      'input.name',
    ],
    ['a parent that does not exist', () => ({ name: 'Orphan', parentId: 987654 }), 'ValidationError', 60004, 'input.parentId'],
  ] as const)(
    'maps WeCom refusing %s to a typed error and changes nothing',
    async ([_what, input, typename, errcode, field], { service, execute, published }) => {
      const before = await tree(service);
      const res = await execute(CREATE, { input: input(before) });
      expect(res.data!.createDepartment).toMatchObject({ __typename: typename, errcode, field });
      expect(await tree(service)).toEqual(before);
      expect(published).toEqual([]);
    },
  );
});

describe('updateDepartment', () => {
  it('renames, moves and reorders', async ({ service, execute, published }) => {
    const created = await execute(CREATE, { input: { name: 'Movable', parentId: 2 } });
    const id = success(created.data!.createDepartment).data.departmentId;
    published.length = 0;

    const res = await execute(UPDATE, { input: { departmentId: id, name: 'Moved', parentId: 3, order: 77 } });
    const stored = await wecomDept(service, id);
    expect(stored).toMatchObject({ name: 'Moved', parentid: 3, order: 77 });
    expect(res.data!.updateDepartment).toEqual({ __typename: 'MutationUpdateDepartmentSuccess', data: expected(stored!) });
    expect(published).toEqual([
      { kind: 'DEPARTMENT_UPDATED', departmentId: id, parentId: 3, changedFields: ['name', 'parentid', 'order'], source: 'mutation' },
    ]);

    const later = await execute(CHILD_NAMES, { id: 3 });
    expect(later.data!.department!.children).toContainEqual({ departmentId: id, name: 'Moved' });
  });

  it.for([
    ['nothing to change', {}, 'input'],
    ['its own id as parent', { parentId: 5 }, 'input.parentId'],
    ['a forbidden character', { name: 'a*b' }, 'input.name'],
  ] as const)('refuses %s before calling WeCom', async ([_what, change, field], { service, execute }) => {
    const before = await tree(service);
    const res = await execute(UPDATE, { input: { departmentId: 5, ...change } });
    expect(res.data!.updateDepartment).toMatchObject({ __typename: 'ValidationError', field });
    expect((await service.wecom.stats()).total).toBe(0);
    expect(await tree(service)).toEqual(before);
  });

  it('refuses moving the root before calling WeCom', async ({ service, execute }) => {
    const res = await execute(UPDATE, { input: { departmentId: 1, parentId: 2 } });
    expect(res.data!.updateDepartment).toMatchObject({ __typename: 'ValidationError', field: 'input.parentId' });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('maps a move under its own descendant (60010), an unknown id (60003) and a sibling’s name (60008), changing nothing', async ({
    service,
    execute,
    published,
  }) => {
    const before = await tree(service);
    const child = before.find((d) => d.parentid === 2)!;
    const cycle = await execute(UPDATE, { input: { departmentId: 2, parentId: child.id } });
    expect(cycle.data!.updateDepartment).toMatchObject({ __typename: 'ValidationError', field: 'input.parentId', errcode: 60010 });
    const unknown = await execute(UPDATE, { input: { departmentId: 987654, name: 'x' } });
    expect(unknown.data!.updateDepartment).toMatchObject({ __typename: 'NotFoundError', errcode: 60003 });
    const [first, second] = before.filter((d) => d.parentid === 1);
    const taken = await execute(UPDATE, { input: { departmentId: first!.id, name: second!.name } });
    expect(taken.data!.updateDepartment).toMatchObject({ __typename: 'AlreadyExistsError', field: 'input.name', errcode: 60008 });
    expect(await tree(service)).toEqual(before);
    expect(published).toEqual([]);
  });
});

describe('deleteDepartment', () => {
  it('deletes an empty department; later reads give null', async ({ service, execute, published }) => {
    const created = await execute(CREATE, { input: { name: 'Doomed', parentId: 2 } });
    const id = success(created.data!.createDepartment).data.departmentId;
    published.length = 0;
    const res = await execute(DELETE, { id });
    expect(res.data!.deleteDepartment).toEqual({ __typename: 'MutationDeleteDepartmentSuccess', data: { departmentId: id } });
    expect(await wecomDept(service, id)).toBeUndefined();
    expect(published).toEqual([{ kind: 'DEPARTMENT_DELETED', departmentId: id, source: 'mutation' }]);
    expect((await execute(NAME, { id })).data).toEqual({ department: null });
  });

  it('refuses the root before calling WeCom', async ({ service, execute }) => {
    const res = await execute(DELETE, { id: 1 });
    expect(res.data!.deleteDepartment).toMatchObject({ __typename: 'ValidationError', field: 'departmentId', errcode: null });
    expect((await service.wecom.stats()).total).toBe(0);
  });

  it('gives ConflictError for a department with members (60005) or sub-departments (60006), NotFoundError for an unknown one', async ({
    service,
    execute,
    published,
  }) => {
    const before = await tree(service);
    const members = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;
    const leaf = before.find(
      (d) => !before.some((c) => c.parentid === d.id) && members.some((u: { department: number[] }) => u.department.includes(d.id)),
    )!;
    const withMembers = await execute(DELETE, { id: leaf.id });
    expect(withMembers.data!.deleteDepartment).toMatchObject({ __typename: 'ConflictError', errcode: 60005 });
    const withChildren = await execute(DELETE, { id: 2 });
    expect(withChildren.data!.deleteDepartment).toMatchObject({ __typename: 'ConflictError', errcode: 60006 });
    const unknown = await execute(DELETE, { id: 987654 });
    expect(unknown.data!.deleteDepartment).toMatchObject({ __typename: 'NotFoundError', errcode: 60003 });
    expect(await tree(service)).toEqual(before);
    expect(published).toEqual([]);
  });
});
