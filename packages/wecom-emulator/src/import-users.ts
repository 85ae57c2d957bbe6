import { userKey } from 'wecom-protocol/userid';
import type { Caller, User } from './model.ts';
import type { CorpStore } from './store.ts';
import type { Clock } from './clock.ts';
import { WeComFault, fail } from './errors.ts';
import { type CsvTable, readCsvTable } from './csv.ts';
import type { UserImportResult } from './jobs.ts';
import { retryPendingPartyDeletions } from './import-parties.ts';
import { type UserPayload, applyUserCreate, applyUserDelete, applyUserUpdate } from './user-rules.ts';
import {
  BATCH_DELETE_MAX,
  DEPARTMENT_CHILD_NODES_MAX,
  DEPARTMENTS_PER_CORP_MAX,
  INT32_MAX,
  REPLACE_USER_PROTECTION,
  ROOT_DEPARTMENT_ID,
  UNASSIGNED_DEPARTMENT_NAME,
} from 'wecom-protocol/limits';

/**
 * batch/syncuser (增量更新成员) and batch/replaceuser (全量覆盖成员), docs/wecom-api.md §6.2–§6.3.
 *
 * The member file is the emulator's reading of WeCom's template (the official header row is
 * unconfirmed, §13): the newer header
 *   姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用
 * with columns found by name (any order; unknown columns such as 禁用项说明 or custom fields are
 * ignored; optional columns may be left out). Cells:
 * - 所在部门: department ids separated by `;`; 是否部门内领导 (0/1) and 排序 (uint32) are
 *   `;`-separated lists aligned with it;
 * - 性别: 男/女 or 1/2; 禁用: 0 (enabled) or 1 (disabled).
 * Each record is checked with the member rules of user/create and user/update (user-rules.ts), so a
 * bad value fails that record with the same errcode the API would give.
 */

/** The template's columns (primary spelling first, then accepted variants). */
export const MEMBER_COLUMNS = {
  name: ['姓名'],
  userid: ['帐号', '账号'],
  mobile: ['手机号', '手机'],
  email: ['邮箱'],
  department: ['所在部门'],
  position: ['职位'],
  gender: ['性别'],
  leader: ['是否部门内领导'],
  order: ['排序'],
  alias: ['别名'],
  address: ['地址'],
  telephone: ['座机'],
  disabled: ['禁用'],
} as const satisfies Record<string, readonly string[]>;

export type MemberColumn = keyof typeof MEMBER_COLUMNS;

/** List separators inside a cell: `;` (and its full-width form, which spreadsheets produce). */
const LIST_SEPARATOR = /[;；]/;

export interface MemberRow {
  userid: string;
  /** The cells of the columns the file has ('' when empty); absent columns are absent here. */
  cells: Partial<Record<MemberColumn, string>>;
}

function columnIndex(table: CsvTable, column: MemberColumn): number | undefined {
  for (const name of MEMBER_COLUMNS[column]) {
    const index = table.columns.get(name);
    if (index !== undefined) return index;
  }
  return undefined;
}

/**
 * Reads and checks a member file as a whole: 40092 when it is not UTF-8, empty, lacks the 姓名,
 * 帐号 or 所在部门 column or both 手机号 and 邮箱, or a record lacks its name, userid, departments or
 * both mobile and email; 302003 when a userid appears twice (userids ignore case).
 */
export function readMemberFile(bytes: Buffer): MemberRow[] {
  const table = readCsvTable(bytes);
  const indexes = new Map<MemberColumn, number>();
  for (const column of Object.keys(MEMBER_COLUMNS) as MemberColumn[]) {
    const index = columnIndex(table, column);
    if (index !== undefined) indexes.set(column, index);
  }
  for (const column of ['name', 'userid', 'department'] as const) {
    if (!indexes.has(column)) throw fail(40092, `the header has no ${MEMBER_COLUMNS[column][0]} column`);
  }
  if (!indexes.has('mobile') && !indexes.has('email')) throw fail(40092, 'the header has neither 手机号 nor 邮箱');

  const seen = new Set<string>();
  return table.rows.map(({ line, cells }) => {
    const row: MemberRow['cells'] = {};
    for (const [column, index] of indexes) row[column] = cells[index] ?? '';
    if (!row.name || !row.userid || !row.department || (!row.mobile && !row.email)) {
      throw fail(40092, `record ${line}: name, userid, department and a mobile or an email are required`);
    }
    const key = userKey(row.userid);
    if (seen.has(key)) throw fail(302003, `userid ${row.userid} appears twice`);
    seen.add(key);
    return { userid: row.userid, cells: row };
  });
}

// ── one record ──────────────────────────────────────────────────────────────

function listCell(text: string): string[] {
  return text.split(LIST_SEPARATOR).map((s) => s.trim());
}

/** 60123 "invalid party id" for a department that is not a positive 32-bit integer. */
function parseDepartments(text: string): number[] {
  return listCell(text).map((s) => {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(n >= 1 && n <= INT32_MAX)) throw fail(60123, `所在部门: "${s}" is not a department id`);
    return n;
  });
}

/** A `;`-separated list of numbers matching `pattern`; 40058 (invalid parameter) otherwise. */
function parseNumbers(text: string, pattern: RegExp, column: string): number[] {
  return listCell(text).map((s) => {
    if (!pattern.test(s)) throw fail(40058, `${column}: "${s}" is not valid`);
    return Number(s);
  });
}

const GENDERS: Record<string, '1' | '2'> = { 男: '1', '1': '1', 女: '2', '2': '2' };

export type ImportMode = 'sync' | 'replace';

/** The columns copied as they are, by their member field. */
const TEXT_FIELDS = [
  ['mobile', 'mobile'],
  ['email', 'email'],
  ['position', 'position'],
  ['alias', 'alias'],
  ['address', 'address'],
  ['telephone', 'telephone'],
] as const satisfies readonly (readonly [MemberColumn, string])[];

/**
 * A record as a user/create or user/update payload. syncuser updates only what the file gives:
 * an empty cell leaves the field as it is. replaceuser lets the file win for every column it
 * has: an empty cell clears the field (is_leader_in_dept and 排序 become zeros, 禁用 enabled) —
 * except 性别, which WeCom's member object cannot unset, so an empty 性别 leaves it as it is.
 * Columns the file lacks are never touched.
 */
function memberPayload(row: MemberRow, departments: number[], mode: ImportMode, creating: boolean, toInvite: boolean): UserPayload {
  const { cells } = row;
  const given = (text: string | undefined): text is string => text !== undefined && (mode === 'replace' || text !== '');
  const payload: UserPayload = { userid: row.userid, name: cells.name, department: departments };
  for (const [column, field] of TEXT_FIELDS) {
    if (given(cells[column])) payload[field] = cells[column];
  }
  if (given(cells.leader)) {
    payload.is_leader_in_dept = cells.leader ? parseNumbers(cells.leader, /^[01]$/, '是否部门内领导') : departments.map(() => 0);
  }
  if (given(cells.order)) {
    payload.order = cells.order ? parseNumbers(cells.order, /^\d{1,10}$/, '排序') : departments.map(() => 0);
  }
  if (cells.gender) {
    const gender = GENDERS[cells.gender];
    if (!gender) throw fail(40058, `性别: "${cells.gender}" is not 男/女 or 1/2`);
    payload.gender = gender;
  }
  if (given(cells.disabled)) {
    if (!/^[01]?$/.test(cells.disabled)) throw fail(40058, `禁用: "${cells.disabled}" is not 0 or 1`);
    payload.enable = cells.disabled === '1' ? 0 : 1;
  }
  if (creating) payload.to_invite = toInvite;
  return payload;
}

/**
 * Since 2024-05 a department id the directory does not have is created under
 * "其他（待设置部门）" (a child of the root, created when first needed). The emulator names such a
 * department by its id, the only thing the file says about it. Returns the ids it created.
 */
function createMissingDepartments(store: CorpStore, ids: number[]): number[] {
  const missing = ids.filter((id) => !store.getDepartment(id));
  if (!missing.length) return [];
  const created: number[] = [];
  const create = (id: number, name: string, parentid: number) => {
    if (store.departments.size >= DEPARTMENTS_PER_CORP_MAX) throw fail(81001, 'at most 30000 departments per corp');
    if (store.childNodeCount(parentid) >= DEPARTMENT_CHILD_NODES_MAX) throw fail(81001);
    store.putDepartment({ id, name, name_en: '', parentid, order: 0, department_leader: [], created_seq: store.nextSeq() });
    created.push(id);
  };
  try {
    let holder = store.sortedChildren(ROOT_DEPARTMENT_ID).find((d) => d.name === UNASSIGNED_DEPARTMENT_NAME)?.id;
    if (holder === undefined) {
      holder = Math.max(...store.departments.keys(), ...missing) + 1;
      create(holder, UNASSIGNED_DEPARTMENT_NAME, ROOT_DEPARTMENT_ID);
    }
    for (const id of missing) create(id, String(id), holder);
  } catch (err) {
    removeDepartments(store, created);
    throw err;
  }
  return created;
}

/** Undoes `createMissingDepartments` when the record that needed them fails. */
function removeDepartments(store: CorpStore, created: number[]): void {
  for (const id of [...created].reverse()) store.removeDepartment(id);
}

export interface MemberImportContext {
  store: CorpStore;
  caller: Caller;
  clock: Clock;
  mode: ImportMode;
  toInvite: boolean;
}

/** Creates or updates one member; a refusal becomes the record's errcode and changes nothing. */
function applyMemberRow(ctx: MemberImportContext, row: MemberRow): UserImportResult {
  const { store } = ctx;
  let created: number[] = [];
  try {
    const departments = parseDepartments(row.cells.department ?? '');
    created = createMissingDepartments(store, departments);
    const existing = store.getUser(row.userid);
    const payload = memberPayload(row, departments, ctx.mode, !existing, ctx.toInvite);
    // The contacts-sync token's own changes fire no change_contact events (§9.6): the events are dropped.
    if (existing) applyUserUpdate(store, payload, ctx.caller, ctx.clock);
    else applyUserCreate(store, payload, ctx.caller, ctx.clock);
    return { userid: row.userid, errcode: 0, errmsg: 'ok' };
  } catch (err) {
    if (!(err instanceof WeComFault)) throw err;
    removeDepartments(store, created);
    return { userid: row.userid, errcode: err.errcode, errmsg: err.errmsg };
  }
}

// ── replaceuser deletions ───────────────────────────────────────────────────

/** Members replaceuser would delete: not in the file, and not the corp creator (301005). */
export function membersMissingFrom(store: CorpStore, rows: MemberRow[]): User[] {
  const inFile = new Set(rows.map((r) => userKey(r.userid)));
  const out: User[] = [];
  for (const [key, user] of store.users) if (!inFile.has(key) && !user.is_creator) out.push(user);
  return out;
}

/**
 * replaceuser's deletion protection (45026): more than 50 deletions that are also more than 20%
 * of the current members, or fewer than 50 that are more than 80% of them. The emulator evaluates
 * it when the job is submitted, so the submission itself fails and nothing is changed.
 */
export function checkDeletionProtection(deletions: number, currentMembers: number): void {
  const { people, largeShare, smallShare } = REPLACE_USER_PROTECTION;
  const share = currentMembers ? deletions / currentMembers : 0;
  if ((deletions > people && share > largeShare) || (deletions < people && share > smallShare)) {
    throw fail(45026, `the file would delete ${deletions} of ${currentMembers} members`);
  }
}

/** Units of work: one per record, plus one per deletion for replaceuser. */
export function memberImportUnits(store: CorpStore, rows: MemberRow[], mode: ImportMode): number {
  return rows.length + (mode === 'replace' ? membersMissingFrom(store, rows).length : 0);
}

/**
 * The import work: one yield per record, then (replaceuser) the deletions in batches, then the
 * department deletions replaceparty had postponed until a member import emptied them.
 */
export function* importMembers(ctx: MemberImportContext, rows: MemberRow[], results: UserImportResult[]): Generator<void> {
  for (const row of rows) {
    results.push(applyMemberRow(ctx, row));
    yield;
  }
  if (ctx.mode === 'replace') {
    const stale = membersMissingFrom(ctx.store, rows);
    // Batches keep the reference clean-up (direct leaders, app visibility) to one pass per batch.
    for (let i = 0; i < stale.length; i += BATCH_DELETE_MAX) {
      const batch = stale.slice(i, i + BATCH_DELETE_MAX).filter((u) => ctx.store.getUser(u.userid) !== undefined);
      if (batch.length)
        applyUserDelete(
          ctx.store,
          batch.map((u) => u.userid),
          ctx.caller,
        );
      for (let k = 0; k < batch.length; k++) yield;
    }
  }
  retryPendingPartyDeletions(ctx.store);
}
