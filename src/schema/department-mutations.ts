import { builder } from './builder.ts';
import { DepartmentRef } from './refs.ts';
import { mutating, mutationErrors, refusalDetailFor, type ErrcodeFields } from './mutation-errors.ts';
import { checkDepartmentCreate, checkDepartmentToDelete, checkDepartmentUpdate } from './validate.ts';
import { publishWrite, readBack } from './after-write.ts';
import type { GraphQLContext } from './context.ts';
import { guardDepartments, guardNotSubtreeTop } from './scope-guards.ts';
import type { DepartmentUpdateInput, WeComDepartment } from '../wecom/departments.ts';

/**
 * Department writes (docs/wecom-api.md §4): create, update (rename, move, reorder) and delete. Input is
 * checked first (name rules, ids); each payload is the department as WeCom has it afterwards.
 */

const DEPARTMENT_FIELDS: ErrcodeFields = {
  60001: 'input.name',
  60009: 'input.name',
  60125: 'input.name',
  60008: 'input.name',
  60004: 'input.parentId',
  60124: 'input.parentId',
  60010: 'input.parentId',
  81002: 'input.parentId',
  81001: 'input.parentId',
  60123: 'input.departmentId',
};

const CreateDepartmentInput = builder.inputType('CreateDepartmentInput', {
  description: 'A new department (department/create): name and parentId are required. The tree allows 15 levels and 30,000 departments.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description:
        '1–32 characters, none of \\ : * ? " < > |; unique among its siblings. One starting with = + - @ (a spreadsheet formula) is stored with a leading \'.',
    }),
    nameEn: t.string({ description: 'English name (effective when multi-language is enabled).' }),
    parentId: t.int({
      required: true,
      description: 'WeCom id of the parent department (the root is 1); it must exist and be within reach.',
    }),
    order: t.field({ type: 'WeComOrder', description: 'Larger sorts first.' }),
    departmentId: t.int({ description: 'An id of your choice (> 1); WeCom picks one when omitted.' }),
  }),
});

const UpdateDepartmentInput = builder.inputType('UpdateDepartmentInput', {
  description: 'The department and what to change: rename (name, nameEn), move (parentId), reorder (order).',
  fields: (t) => ({
    departmentId: t.int({ required: true, description: 'WeCom id of the department to change.' }),
    name: t.string({
      description:
        'New name: 1–32 characters, none of \\ : * ? " < > |; unique among its siblings. One starting with = + - @ (a spreadsheet formula) is stored with a leading \'.',
    }),
    nameEn: t.string({ description: 'New English name (effective when multi-language is enabled).' }),
    parentId: t.int({ description: 'Moves the department under this parent; not under itself or one of its sub-departments.' }),
    order: t.field({ type: 'WeComOrder', description: 'New sort order among siblings; larger first.' }),
  }),
});

const DepartmentDeletion = builder.simpleObject('DepartmentDeletion', {
  description: 'The department WeCom deleted.',
  fields: (t) => ({ departmentId: t.int({ description: 'WeCom id of the deleted department.' }) }),
});

/** The department after a write, read from WeCom (after-write.ts). */
function departmentNow(ctx: GraphQLContext, id: number): Promise<WeComDepartment> {
  return readBack(
    `department ${id}`,
    () => ctx.client.departments.get(id),
    async () => (await ctx.loaders.tree()).get(id) ?? null,
  );
}

function changedFields(input: DepartmentUpdateInput): string[] {
  return Object.entries(input).flatMap(([key, value]) => (value === undefined || key === 'id' ? [] : [key]));
}

builder.mutationFields((t) => ({
  createDepartment: t.field({
    type: DepartmentRef,
    description: 'Creates a department (department/create).',
    args: { input: t.arg({ type: CreateDepartmentInput, required: true, description: 'The new department.' }) },
    errors: mutationErrors('createDepartment', {
      succeeded: 'WeCom created the department',
      data: 'The new department as WeCom has it after the create (read back from WeCom), with the id WeCom gave it.',
    }),
    resolve: async (_root, { input }, ctx) => {
      const create = checkDepartmentCreate('input', input);
      await guardDepartments(ctx, 'input.parentId', [create.parentid]);
      // Department ids are corp-wide and sibling names may be outside the caller's subtrees (60008).
      const { id } = await mutating(
        { ...DEPARTMENT_FIELDS, 60123: 'input.departmentId' },
        () => ctx.client.departments.create(create),
        refusalDetailFor(ctx.scopes),
      );
      publishWrite(ctx, { kind: 'DEPARTMENT_CREATED', departmentId: id, parentId: create.parentid, source: 'mutation' });
      return departmentNow(ctx, id);
    },
  }),
  updateDepartment: t.field({
    type: DepartmentRef,
    description: 'Renames, moves or reorders a department (department/update).',
    args: { input: t.arg({ type: UpdateDepartmentInput, required: true, description: 'The department and what to change.' }) },
    errors: mutationErrors('updateDepartment', {
      succeeded: 'WeCom applied the change',
      data: 'The department as WeCom has it after the update (read back from WeCom).',
    }),
    resolve: async (_root, { input }, ctx) => {
      const update = checkDepartmentUpdate('input', input);
      await guardDepartments(ctx, 'input.departmentId', [update.id]);
      if (update.parentid !== undefined) {
        guardNotSubtreeTop(ctx, 'input.parentId', update.id, 'moved');
        await guardDepartments(ctx, 'input.parentId', [update.parentid]);
      }
      await mutating(DEPARTMENT_FIELDS, () => ctx.client.departments.update(update), refusalDetailFor(ctx.scopes));
      publishWrite(ctx, {
        kind: 'DEPARTMENT_UPDATED',
        departmentId: update.id,
        ...(update.parentid !== undefined ? { parentId: update.parentid } : {}),
        changedFields: changedFields(update),
        source: 'mutation',
      });
      return departmentNow(ctx, update.id);
    },
  }),
  deleteDepartment: t.field({
    type: DepartmentDeletion,
    description: 'Deletes an empty department (department/delete): no members (60005) and no sub-departments (60006).',
    args: { departmentId: t.arg.int({ required: true, description: 'WeCom id of the department to delete (not the root, 1).' }) },
    errors: mutationErrors('deleteDepartment', { succeeded: 'WeCom deleted the department', data: 'The id of the deleted department.' }),
    resolve: async (_root, { departmentId }, ctx) => {
      const id = checkDepartmentToDelete('departmentId', departmentId);
      await guardDepartments(ctx, 'departmentId', [id]);
      guardNotSubtreeTop(ctx, 'departmentId', id, 'deleted');
      await mutating({ 60123: 'departmentId', 60007: 'departmentId' }, () => ctx.client.departments.delete(id));
      publishWrite(ctx, { kind: 'DEPARTMENT_DELETED', departmentId: id, source: 'mutation' });
      return { departmentId: id };
    },
  }),
}));
