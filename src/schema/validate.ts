// Long on purpose: the input rules of every mutation, checked before any quota is spent, one function per
// input; the limits themselves live once in wecom-protocol/limits.
import { userKey } from 'wecom-protocol/userid';
import { neutraliseFormula, startsLikeFormula } from 'wecom-protocol/csv';
import { ValidationError } from './mutation-errors.ts';
import type { ExtAttr, UserCreateInput, UserUpdateInput } from '../wecom/users.ts';
import type { DepartmentCreateInput, DepartmentUpdateInput } from '../wecom/departments.ts';
import type { DepartmentCsvRow, MemberCsvRow } from '../jobs/import-csv.ts';
import {
  ADDRESS_MAX_CHARS,
  ALIAS_MAX_CHARS,
  BATCH_DELETE_MAX,
  DEPARTMENT_NAME_FORBIDDEN,
  DEPARTMENT_NAME_MAX_CHARS,
  DIRECT_LEADERS_MAX,
  EXPORT_BLOCK_SIZE_MAX,
  EXPORT_BLOCK_SIZE_MIN,
  EXTATTR_TEXT_MAX_CHARS,
  EXTATTR_WEB_TITLE_MAX_CHARS,
  EXTERNAL_POSITION_MAX_CHARS,
  INT32_MAX,
  INVITE_PARTIES_MAX,
  INVITE_TAGS_MAX,
  INVITE_USERS_MAX,
  MOBILE_PATTERN,
  POSITION_MAX_CHARS,
  ROOT_DEPARTMENT_ID,
  TAG_NAME_MAX_CHARS,
  TAG_PARTIES_PER_CALL_MAX,
  TAG_USERS_PER_CALL_MAX,
  TELEPHONE_PATTERN,
  USER_DEPARTMENTS_MAX,
  USER_NAME_MAX_CHARS,
  charLength,
  isValidEmail,
  isValidUserid,
} from 'wecom-protocol/limits';

/**
 * The fact sheet's input rules (docs/wecom-api.md §3.1, §4, §5, §6), checked before any upstream call
 * so that bad input costs no WeCom quota and the error names the argument at fault. Each check
 * returns the input in the client's shape. Paths are relative to the mutation's arguments:
 * `input.userid`, `rows[3].mobile`, `userids[2]`.
 */

type Maybe<T> = T | null | undefined;

/** Refuses the input: throws a ValidationError naming `field`. */
function reject(field: string, message: string): never {
  throw new ValidationError(field, `${field}: ${message}`);
}

const given = <T>(v: Maybe<T>): v is T => v !== null && v !== undefined;

function optional<T>(v: Maybe<T>): T | undefined {
  return given(v) ? v : undefined;
}

export function checkUserid(field: string, userid: string): string {
  if (!isValidUserid(userid)) reject(field, 'must be 1–64 bytes of letters, digits, _ - @ . starting with a letter or digit');
  return userid;
}

/**
 * Free text WeCom keeps and shows in its exports (names, positions, addresses …): a value that
 * starts like a spreadsheet formula is stored with the apostrophe that keeps it text
 * (wecom-protocol/csv), the same rule as for import files. Measured as it will be stored.
 */
function freeText(field: string, value: string, max: number): string {
  const stored = neutraliseFormula(value);
  if (charLength(stored) > max)
    reject(
      field,
      `must be at most ${max} characters${stored === value ? '' : " (counting the ' put before a value that starts like a formula)"}`,
    );
  return stored;
}

const optionalFreeText = (field: string, value: Maybe<string>, max: number) => (given(value) ? freeText(field, value, max) : undefined);

/**
 * An address: an apostrophe would change where mail goes, so one that starts like a formula is
 * refused rather than neutralised (no real address starts with = + - @).
 */
function checkEmail(field: string, email: Maybe<string>): void {
  if (!email) return;
  if (!isValidEmail(email)) reject(field, 'must be a valid address of 6–64 bytes');
  if (startsLikeFormula(email)) reject(field, 'must not start with =, +, - or @ (a spreadsheet would run it as a formula)');
}

/** A positive 32-bit department id (the root is 1). */
function checkDepartmentIdValue(field: string, id: number, min = ROOT_DEPARTMENT_ID): number {
  if (!Number.isInteger(id) || id < min || id > INT32_MAX) reject(field, `must be a department id from ${min} to ${INT32_MAX}`);
  return id;
}

function checkIdList<T extends string | number>(
  field: string,
  ids: readonly T[],
  max: number,
  what: string,
  each: (f: string, v: T) => unknown,
): T[] {
  if (ids.length > max) reject(field, `at most ${max} ${what} per call`);
  for (const [i, v] of ids.entries()) each(`${field}[${i}]`, v);
  return [...ids];
}

// ── members ─────────────────────────────────────────────────────────────────

/** A custom attribute (extattr): text, or a web link (url + title); all empty clears it. */
export interface ExtAttrFields {
  name: string;
  text?: Maybe<string>;
  url?: Maybe<string>;
  title?: Maybe<string>;
}

/** The member fields of createUser, updateUser and import rows (WeCom's names in camelCase). */
export interface UserFields {
  userid: string;
  newUserid?: Maybe<string>;
  name?: Maybe<string>;
  departmentIds?: Maybe<readonly number[]>;
  order?: Maybe<readonly number[]>;
  isLeaderInDept?: Maybe<readonly boolean[]>;
  mobile?: Maybe<string>;
  email?: Maybe<string>;
  bizMail?: Maybe<string>;
  alias?: Maybe<string>;
  position?: Maybe<string>;
  gender?: Maybe<'0' | '1' | '2'>;
  telephone?: Maybe<string>;
  address?: Maybe<string>;
  externalPosition?: Maybe<string>;
  directLeaderUserids?: Maybe<readonly string[]>;
  mainDepartmentId?: Maybe<number>;
  enable?: Maybe<boolean>;
  avatarMediaid?: Maybe<string>;
  extAttrs?: Maybe<readonly ExtAttrFields[]>;
  toInvite?: Maybe<boolean>;
}

function checkName(field: string, name: string): string {
  if (name.trim() === '') reject(field, `must be 1–${USER_NAME_MAX_CHARS} characters`);
  return freeText(field, name, USER_NAME_MAX_CHARS);
}

function checkDepartments(field: string, ids: readonly number[]): number[] {
  if (ids.length === 0) reject(field, 'must list at least one department');
  if (ids.length > USER_DEPARTMENTS_MAX) reject(field, `at most ${USER_DEPARTMENTS_MAX} departments`);
  for (const [i, id] of ids.entries()) checkDepartmentIdValue(`${field}[${i}]`, id);
  if (new Set(ids).size !== ids.length) reject(field, 'lists a department twice');
  return [...ids];
}

function checkExtAttrs(path: string, attrs: readonly ExtAttrFields[]): ExtAttr[] {
  return attrs.map((a, i) => {
    const field = `${path}.extAttrs[${i}]`;
    if (a.name.trim() === '') reject(`${field}.name`, 'must name a custom field of the admin console');
    if (given(a.url) || given(a.title)) {
      if (given(a.text)) reject(field, 'is either text or a web link (url, title), not both');
      const url = a.url ?? '';
      const title = a.title ?? '';
      if (url !== '' && !/^https?:\/\//i.test(url)) reject(`${field}.url`, 'must start with http:// or https://');
      return { type: 1, name: a.name, web: { url, title: freeText(`${field}.title`, title, EXTATTR_WEB_TITLE_MAX_CHARS) } };
    }
    return { type: 0, name: a.name, text: { value: freeText(`${field}.text`, a.text ?? '', EXTATTR_TEXT_MAX_CHARS) } };
  });
}

/**
 * The checks shared by create, update and import rows. On update an empty mobile, email or
 * telephone clears it, so only non-empty values are checked for shape.
 */
function checkUserFields(path: string, input: UserFields): Omit<UserUpdateInput, 'userid'> {
  const at = (f: string) => `${path}.${f}`;
  const name = given(input.name) ? checkName(at('name'), input.name) : undefined;
  const departments = given(input.departmentIds) ? checkDepartments(at('departmentIds'), input.departmentIds) : undefined;
  if (given(input.order)) {
    // WeCom honours `order` only together with `department` (§3.2), and item by item.
    if (!departments) reject(at('order'), 'is honoured only together with departmentIds');
    if (input.order.length !== departments.length) reject(at('order'), 'must have one value per department of departmentIds');
  }
  if (given(input.isLeaderInDept) && departments && input.isLeaderInDept.length !== departments.length) {
    reject(at('isLeaderInDept'), 'must have one flag per department of departmentIds (60132)');
  }
  if (input.mobile && (!MOBILE_PATTERN.test(input.mobile) || !/\d/.test(input.mobile)))
    reject(at('mobile'), 'at most 32 digits, +, - and spaces');
  checkEmail(at('email'), input.email);
  checkEmail(at('bizMail'), input.bizMail);
  const alias = optionalFreeText(at('alias'), input.alias, ALIAS_MAX_CHARS);
  const position = optionalFreeText(at('position'), input.position, POSITION_MAX_CHARS);
  const address = optionalFreeText(at('address'), input.address, ADDRESS_MAX_CHARS);
  const externalPosition = optionalFreeText(at('externalPosition'), input.externalPosition, EXTERNAL_POSITION_MAX_CHARS);
  if (input.telephone && !TELEPHONE_PATTERN.test(input.telephone)) reject(at('telephone'), 'at most 32 digits, -, + and ,');
  if (given(input.directLeaderUserids)) {
    checkIdList(at('directLeaderUserids'), input.directLeaderUserids, DIRECT_LEADERS_MAX, 'direct leaders', checkUserid);
  }
  if (given(input.mainDepartmentId)) {
    checkDepartmentIdValue(at('mainDepartmentId'), input.mainDepartmentId);
    if (departments && !departments.includes(input.mainDepartmentId)) reject(at('mainDepartmentId'), 'must be one of departmentIds');
  }
  return {
    name,
    department: departments,
    order: given(input.order) ? [...input.order] : undefined,
    isLeaderInDept: given(input.isLeaderInDept) ? input.isLeaderInDept.map((b) => (b ? 1 : 0)) : undefined,
    mobile: optional(input.mobile),
    email: optional(input.email),
    bizMail: optional(input.bizMail),
    alias,
    position,
    // UNSPECIFIED ("0") is WeCom's "not set": nothing to send, the member's gender stays as it is.
    gender: input.gender === '1' || input.gender === '2' ? input.gender : undefined,
    telephone: optional(input.telephone),
    address,
    externalPosition,
    directLeader: given(input.directLeaderUserids) ? [...input.directLeaderUserids] : undefined,
    mainDepartment: optional(input.mainDepartmentId),
    enable: given(input.enable) ? (input.enable ? 1 : 0) : undefined,
    avatarMediaid: optional(input.avatarMediaid),
    extattr: given(input.extAttrs) ? { attrs: checkExtAttrs(path, input.extAttrs) } : undefined,
  };
}

/** createUser: userid, name, departments and a mobile or an email are required (§3.2). */
export function checkUserCreate(path: string, input: UserFields): UserCreateInput {
  const userid = checkUserid(`${path}.userid`, input.userid);
  if (!given(input.name)) reject(`${path}.name`, 'is required');
  if (!given(input.departmentIds)) reject(`${path}.departmentIds`, 'is required');
  if (!input.mobile && !input.email) reject(`${path}.mobile`, 'a mobile or an email is required (60129)');
  const fields = checkUserFields(path, input);
  return {
    ...fields,
    userid,
    name: fields.name!,
    department: fields.department!,
    ...(given(input.toInvite) ? { toInvite: input.toInvite } : {}),
  };
}

/** updateUser: the userid plus at least one field to change. */
export function checkUserUpdate(path: string, input: UserFields): UserUpdateInput {
  const userid = checkUserid(`${path}.userid`, input.userid);
  const newUserid = given(input.newUserid) ? checkUserid(`${path}.newUserid`, input.newUserid) : undefined;
  const fields = checkUserFields(path, input);
  const changes = Object.values(fields).some((v) => v !== undefined) || (newUserid !== undefined && newUserid !== userid);
  if (!changes) reject(path, 'names no field to change');
  return { userid, ...(newUserid !== undefined ? { newUserid } : {}), ...fields };
}

/** deleteUsers: WeCom's batchdelete takes 1 to 200 userids, all or nothing (§3.2). */
export function checkUseridsToDelete(field: string, userids: readonly string[]): string[] {
  if (userids.length === 0) reject(field, 'must list at least one userid');
  if (userids.length > BATCH_DELETE_MAX) {
    reject(field, `WeCom deletes at most ${BATCH_DELETE_MAX} members per call (got ${userids.length}); split the list`);
  }
  return checkIdList(field, userids, BATCH_DELETE_MAX, 'userids', checkUserid);
}

/** inviteUsers: ≤ 1000 users, ≤ 100 departments, ≤ 100 tags, not all empty (§3.2). */
export function checkInvite(args: {
  userids?: Maybe<readonly string[]>;
  departmentIds?: Maybe<readonly number[]>;
  tagIds?: Maybe<readonly number[]>;
}) {
  const user = checkIdList('userids', args.userids ?? [], INVITE_USERS_MAX, 'userids', checkUserid);
  const party = checkIdList('departmentIds', args.departmentIds ?? [], INVITE_PARTIES_MAX, 'departments', (f, id) =>
    checkDepartmentIdValue(f, id),
  );
  const tag = checkIdList('tagIds', args.tagIds ?? [], INVITE_TAGS_MAX, 'tags', checkTagId);
  if (!user.length && !party.length && !tag.length) reject('userids', 'userids, departmentIds and tagIds are all empty');
  return { user, party, tag };
}

// ── departments ─────────────────────────────────────────────────────────────

/** 1–32 characters, none of \ : * ? " < > | (60001, 60009); neutralised like a member's free text. */
export function checkDepartmentName(field: string, name: string): string {
  if (name.trim() === '') reject(field, `must be 1–${DEPARTMENT_NAME_MAX_CHARS} characters`);
  if (DEPARTMENT_NAME_FORBIDDEN.test(name)) reject(field, 'must not contain \\ : * ? " < > |');
  return freeText(field, name, DEPARTMENT_NAME_MAX_CHARS);
}

export function checkDepartmentId(field: string, id: number): number {
  return checkDepartmentIdValue(field, id);
}

export interface DepartmentFields {
  departmentId?: Maybe<number>;
  name?: Maybe<string>;
  nameEn?: Maybe<string>;
  parentId?: Maybe<number>;
  order?: Maybe<number>;
}

/** createDepartment: name and parent required; an explicit id must be > 1 (§4). */
export function checkDepartmentCreate(path: string, input: DepartmentFields & { name: string; parentId: number }): DepartmentCreateInput {
  return {
    name: checkDepartmentName(`${path}.name`, input.name),
    parentid: checkDepartmentIdValue(`${path}.parentId`, input.parentId),
    ...(given(input.nameEn) ? { nameEn: checkDepartmentName(`${path}.nameEn`, input.nameEn) } : {}),
    ...(given(input.order) ? { order: input.order } : {}),
    ...(given(input.departmentId)
      ? { id: checkDepartmentIdValue(`${path}.departmentId`, input.departmentId, ROOT_DEPARTMENT_ID + 1) }
      : {}),
  };
}

/** updateDepartment: rename, move or reorder; a department cannot be its own parent (60010). */
export function checkDepartmentUpdate(path: string, input: DepartmentFields & { departmentId: number }): DepartmentUpdateInput {
  const id = checkDepartmentIdValue(`${path}.departmentId`, input.departmentId);
  const out: DepartmentUpdateInput = { id };
  if (given(input.name)) out.name = checkDepartmentName(`${path}.name`, input.name);
  if (given(input.nameEn)) out.nameEn = checkDepartmentName(`${path}.nameEn`, input.nameEn);
  if (given(input.parentId)) {
    out.parentid = checkDepartmentIdValue(`${path}.parentId`, input.parentId);
    if (out.parentid === id) reject(`${path}.parentId`, 'a department cannot be its own parent');
    if (id === ROOT_DEPARTMENT_ID) reject(`${path}.parentId`, 'the root department cannot be moved');
  }
  if (given(input.order)) out.order = input.order;
  if (Object.keys(out).length === 1) reject(path, 'names no field to change (name, nameEn, parentId, order)');
  return out;
}

/** deleteDepartment: never the root (60007). */
export function checkDepartmentToDelete(field: string, id: number): number {
  checkDepartmentIdValue(field, id);
  if (id === ROOT_DEPARTMENT_ID) reject(field, 'the root department cannot be deleted');
  return id;
}

// ── tags ────────────────────────────────────────────────────────────────────

/** 1–32 characters (40072); neutralised like a member's free text. */
export function checkTagName(field: string, name: string): string {
  if (name.trim() === '') reject(field, `must be 1–${TAG_NAME_MAX_CHARS} characters`);
  return freeText(field, name, TAG_NAME_MAX_CHARS);
}

/** Tag ids are non-negative 32-bit integers (§5). */
export function checkTagId(field: string, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > INT32_MAX) reject(field, `must be a tag id from 0 to ${INT32_MAX}`);
  return id;
}

/** addTagMembers / removeTagMembers: ≤ 1000 users, ≤ 100 departments, not both empty (§5). */
export function checkTagMembers(args: { tagId: number; userids?: Maybe<readonly string[]>; departmentIds?: Maybe<readonly number[]> }) {
  const tagid = checkTagId('tagId', args.tagId);
  const userlist = checkIdList('userids', args.userids ?? [], TAG_USERS_PER_CALL_MAX, 'userids', checkUserid);
  const partylist = checkIdList('departmentIds', args.departmentIds ?? [], TAG_PARTIES_PER_CALL_MAX, 'departments', (f, id) =>
    checkDepartmentIdValue(f, id),
  );
  if (!userlist.length && !partylist.length) reject('userids', 'userids and departmentIds are both empty');
  return { tagid, userlist, partylist };
}

// ── imports and exports ─────────────────────────────────────────────────────

/** Member rows of an import: the createUser rules per row, and no userid twice (302003; userids ignore case). */
export function checkImportUserRows(field: string, rows: readonly UserFields[]): MemberCsvRow[] {
  if (rows.length === 0) reject(field, 'must hold at least one row');
  const seen = new Map<string, number>();
  return rows.map((row, i) => {
    const path = `${field}[${i}]`;
    const user = checkUserCreate(path, row);
    const key = userKey(user.userid);
    const first = seen.get(key);
    if (first !== undefined) reject(`${path}.userid`, `${user.userid} is also in ${field}[${first}] (userids ignore case)`);
    seen.set(key, i);
    return {
      userid: user.userid,
      name: user.name,
      departmentIds: user.department,
      ...(user.mobile !== undefined ? { mobile: user.mobile } : {}),
      ...(user.email !== undefined ? { email: user.email } : {}),
      ...(user.position !== undefined ? { position: user.position } : {}),
      ...(user.gender !== undefined ? { gender: user.gender } : {}),
      ...(given(row.isLeaderInDept) ? { isLeaderInDept: [...row.isLeaderInDept] } : {}),
      ...(user.order !== undefined ? { order: user.order } : {}),
      ...(user.alias !== undefined ? { alias: user.alias } : {}),
      ...(user.address !== undefined ? { address: user.address } : {}),
      ...(user.telephone !== undefined ? { telephone: user.telephone } : {}),
      ...(given(row.enable) ? { enable: row.enable } : {}),
    };
  });
}

/**
 * Department rows of a full department import (batch/replaceparty): the file must describe a tree
 * under the root — each parent in the file or the root (302004), ids unique (302006), sibling
 * names unique (302007) — with the department name rules per row.
 */
export function checkImportDepartmentRows(
  field: string,
  rows: readonly (DepartmentFields & { departmentId: number; name: string })[],
): DepartmentCsvRow[] {
  if (rows.length === 0) reject(field, 'must hold at least one row');
  const out = rows.map((row, i): DepartmentCsvRow => {
    const path = `${field}[${i}]`;
    const id = checkDepartmentIdValue(`${path}.departmentId`, row.departmentId);
    const name = checkDepartmentName(`${path}.name`, row.name);
    const isRoot = id === ROOT_DEPARTMENT_ID;
    const parentId = row.parentId ?? (isRoot ? 0 : undefined);
    if (parentId === undefined) reject(`${path}.parentId`, 'is required (0 only for the root department)');
    if (isRoot && parentId !== 0) reject(`${path}.parentId`, 'the root department has no parent (0)');
    if (!isRoot) checkDepartmentIdValue(`${path}.parentId`, parentId);
    return { departmentId: id, name, parentId, ...(given(row.order) ? { order: row.order } : {}) };
  });
  const byId = new Map<number, number>();
  out.forEach((row, i) => {
    const first = byId.get(row.departmentId);
    if (first !== undefined) reject(`${field}[${i}].departmentId`, `${row.departmentId} is also in ${field}[${first}]`);
    byId.set(row.departmentId, i);
  });
  const siblings = new Map<string, number>();
  out.forEach((row, i) => {
    // Walk up to the root: every parent must be in the rows (or be the root), without a cycle.
    const visited = new Set<number>();
    for (
      let cur: DepartmentCsvRow | undefined = row;
      cur && cur.departmentId !== ROOT_DEPARTMENT_ID;
      cur = out[byId.get(cur.parentId) ?? -1]
    ) {
      if (visited.has(cur.departmentId)) reject(`${field}[${i}].parentId`, `department ${row.departmentId} is in a cycle`);
      visited.add(cur.departmentId);
      if (cur.parentId !== ROOT_DEPARTMENT_ID && !byId.has(cur.parentId)) {
        reject(`${field}[${byId.get(cur.departmentId)}].parentId`, `parent ${cur.parentId} is neither in ${field} nor the root department`);
      }
    }
    if (row.departmentId === ROOT_DEPARTMENT_ID) return;
    const key = `${row.parentId}\n${row.name}`;
    const first = siblings.get(key);
    if (first !== undefined) reject(`${field}[${i}].name`, `${field}[${first}] under the same parent has the same name`);
    siblings.set(key, i);
  });
  return out;
}

/** Export files hold 10^4 to 10^6 records each (§7). */
export function checkBlockSize(field: string, blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize < EXPORT_BLOCK_SIZE_MIN || blockSize > EXPORT_BLOCK_SIZE_MAX) {
    reject(field, `must be from ${EXPORT_BLOCK_SIZE_MIN} to ${EXPORT_BLOCK_SIZE_MAX}`);
  }
  return blockSize;
}
