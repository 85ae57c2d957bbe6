import type { CorpStore } from './store.ts';
import { WeComFault, fail } from './errors.ts';
import { cell, readCsvTable } from './csv.ts';
import { perCorp } from './corp-state.ts';
import type { PartyImportResult } from './jobs.ts';
import {
  DEPARTMENT_CHILD_NODES_MAX,
  DEPARTMENT_MAX_DEPTH,
  DEPARTMENT_NAME_FORBIDDEN,
  DEPARTMENT_NAME_MAX_CHARS,
  DEPARTMENTS_PER_CORP_MAX,
  INT32_MAX,
  ORDER_MAX,
  ROOT_DEPARTMENT_ID,
  charLength,
} from 'wecom-protocol/limits';

/**
 * batch/replaceparty (全量覆盖部门, docs/wecom-api.md §6.3): the department file replaces the tree.
 * In the file and the directory → modified; in the file only → created; in the directory only →
 * deleted when it has no members and no sub-departments, otherwise kept until a later member
 * import empties it.
 */

/** The department template's header (§6.2), matched by name so the column order is free. */
export const PARTY_COLUMNS = { name: '部门名称', id: '部门ID', parentid: '父部门ID', order: '排序' } as const;

/** Bits of a replace_party result's `action`. */
export const PARTY_ACTION = { created: 1, renamed: 2, moved: 4, reordered: 8 } as const;

export interface PartyRow {
  name: string;
  id: number;
  /** 0 only for the root department. */
  parentid: number;
  /** `undefined` when the cell is empty or 0: "do not change the order" (§6.2). */
  order: number | undefined;
}

const INTEGER = /^\d+$/;

/** A numeric cell in [min, max]; '' gives `undefined`; anything else makes the file illegal (40092). */
function numberCell(text: string, min: number, max: number, what: string, record: number): number | undefined {
  if (text === '') return undefined;
  const n = INTEGER.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw fail(40092, `record ${record}: ${what} "${text}" is not a number in [${min}, ${max}]`);
  return n;
}

/**
 * Reads and checks a department file as a whole. File-level refusals, in this order:
 * 40092 not UTF-8 / empty / a required column missing / a non-numeric id, parent id or order;
 * 302004 an empty name, id or parent id, or a root row with a parent;
 * 302006 a department id twice; 302004 not a tree (a parent neither in the file nor the root,
 * or a cycle); 302007 two siblings with the same name.
 */
export function readPartyFile(bytes: Buffer): PartyRow[] {
  const table = readCsvTable(bytes);
  for (const column of [PARTY_COLUMNS.name, PARTY_COLUMNS.id, PARTY_COLUMNS.parentid]) {
    if (!table.columns.has(column)) throw fail(40092, `the header has no ${column} column`);
  }
  const rows = table.rows.map(({ line, cells }): PartyRow => {
    const name = cell(table, cells, PARTY_COLUMNS.name);
    const id = numberCell(cell(table, cells, PARTY_COLUMNS.id), 1, INT32_MAX, PARTY_COLUMNS.id, line);
    const parentid = numberCell(cell(table, cells, PARTY_COLUMNS.parentid), 0, INT32_MAX, PARTY_COLUMNS.parentid, line);
    const order = numberCell(cell(table, cells, PARTY_COLUMNS.order), 0, ORDER_MAX, PARTY_COLUMNS.order, line);
    if (name === '' || id === undefined) throw fail(302004, `record ${line}: empty department name or id`);
    const isRoot = id === ROOT_DEPARTMENT_ID;
    if (isRoot && parentid !== undefined && parentid !== 0) throw fail(302004, `record ${line}: the root department has no parent`);
    if (!isRoot && !parentid) throw fail(302004, `record ${line}: department ${id} has no parent id`);
    return { name, id, parentid: parentid ?? 0, order: order || undefined };
  });

  const byId = new Map<number, PartyRow>();
  for (const row of rows) {
    if (byId.has(row.id)) throw fail(302006, `department id ${row.id} appears twice`);
    byId.set(row.id, row);
  }
  for (const row of rows) {
    // Walk up to the root: every parent must be in the file (or be the root), with no cycle.
    const seen = new Set<number>();
    for (let cur: PartyRow | undefined = row; cur && cur.id !== ROOT_DEPARTMENT_ID; cur = byId.get(cur.parentid)) {
      if (seen.has(cur.id)) throw fail(302004, `department ${row.id} is in a cycle`);
      seen.add(cur.id);
      if (cur.parentid !== ROOT_DEPARTMENT_ID && !byId.has(cur.parentid)) {
        throw fail(302004, `the parent ${cur.parentid} of department ${cur.id} is not in the file`);
      }
    }
  }
  const siblingNames = new Set<string>();
  for (const row of rows) {
    if (row.id === ROOT_DEPARTMENT_ID) continue;
    const key = `${row.parentid}\n${row.name}`;
    if (siblingNames.has(key)) throw fail(302007, `two departments under ${row.parentid} are named ${row.name}`);
    siblingNames.add(key);
  }
  return rows;
}

/** Rows with every parent before its children (breadth-first from the root), as they are applied. */
function parentsFirst(rows: PartyRow[]): PartyRow[] {
  const children = new Map<number, PartyRow[]>();
  let root: PartyRow | undefined;
  for (const row of rows) {
    if (row.id === ROOT_DEPARTMENT_ID) {
      root = row;
      continue;
    }
    let list = children.get(row.parentid);
    if (!list) children.set(row.parentid, (list = []));
    list.push(row);
  }
  const out: PartyRow[] = root ? [root] : [];
  const queue = [ROOT_DEPARTMENT_ID];
  for (let i = 0; i < queue.length; i++) {
    for (const child of children.get(queue[i]!) ?? []) {
      out.push(child);
      queue.push(child.id);
    }
  }
  return out;
}

function checkName(name: string): void {
  if (name.trim() === '' || charLength(name) > DEPARTMENT_NAME_MAX_CHARS) {
    throw fail(60001, `name must be 1–${DEPARTMENT_NAME_MAX_CHARS} characters`);
  }
  if (DEPARTMENT_NAME_FORBIDDEN.test(name)) throw fail(60009, 'name must not contain \\ : * ? " < > |');
}

function siblingNamed(store: CorpStore, parentId: number, name: string, self: number): boolean {
  return store.childIds(parentId).some((id) => id !== self && store.getDepartment(id)!.name === name);
}

/** Checks that `parentId` can take one more child department (60004, 81002, 81001). */
function checkNewParent(store: CorpStore, parentId: number, subtreeHeight: number): void {
  if (!store.getDepartment(parentId)) throw fail(60004, `parent ${parentId} does not exist`);
  if (store.depth(parentId) + subtreeHeight > DEPARTMENT_MAX_DEPTH) throw fail(81002);
  if (store.childNodeCount(parentId) >= DEPARTMENT_CHILD_NODES_MAX) throw fail(81001);
}

/** Applies one record with the rules of department/create and department/update. */
function applyRow(store: CorpStore, row: PartyRow): PartyImportResult {
  const existing = store.getDepartment(row.id);
  const moving = existing !== undefined && row.id !== ROOT_DEPARTMENT_ID && row.parentid !== existing.parentid;
  // The action is what the record asks for; a refused record reports it with its errcode.
  let action = 0;
  if (!existing) action = PARTY_ACTION.created;
  else {
    if (row.name !== existing.name) action |= PARTY_ACTION.renamed;
    if (moving) action |= PARTY_ACTION.moved;
    if (row.order !== undefined && row.order !== existing.order) action |= PARTY_ACTION.reordered;
  }
  try {
    checkName(row.name);
    if (!existing) {
      checkNewParent(store, row.parentid, 1);
      if (store.departments.size >= DEPARTMENTS_PER_CORP_MAX) throw fail(81001, 'at most 30000 departments per corp');
      if (siblingNamed(store, row.parentid, row.name, row.id)) throw fail(60008, `a sibling is already named ${row.name}`);
      store.putDepartment({
        id: row.id,
        name: row.name,
        name_en: '',
        parentid: row.parentid,
        order: row.order ?? 0,
        department_leader: [],
        created_seq: store.nextSeq(),
      });
      return { action, partyid: row.id, errcode: 0, errmsg: 'ok' };
    }
    if (moving) {
      if (store.isSelfOrAncestor(row.id, row.parentid)) throw fail(60010);
      checkNewParent(store, row.parentid, store.height(row.id));
    }
    const parentId = moving ? row.parentid : existing.parentid;
    if (action & (PARTY_ACTION.renamed | PARTY_ACTION.moved) && siblingNamed(store, parentId, row.name, row.id)) {
      throw fail(60008, `a sibling is already named ${row.name}`);
    }
    if (action) {
      store.putDepartment({ ...existing, name: row.name, parentid: parentId, order: row.order ?? existing.order });
    }
    return { action, partyid: row.id, errcode: 0, errmsg: 'ok' };
  } catch (err) {
    if (!(err instanceof WeComFault)) throw err;
    return { action, partyid: row.id, errcode: err.errcode, errmsg: err.errmsg };
  }
}

/** Departments that replaceparty could not delete yet because they still had members or children. */
export const pendingPartyDeletions = perCorp(() => new Set<number>());

/** Deletes an empty department (no members, no sub-departments) and drops it from tags. */
function deleteIfEmpty(store: CorpStore, id: number): boolean {
  if (id === ROOT_DEPARTMENT_ID || !store.getDepartment(id)) return false;
  if (store.childIds(id).length || store.memberCount(id)) return false;
  store.removeDepartment(id);
  for (const tag of store.tags.values()) tag.parties.delete(id);
  store.touch();
  return true;
}

/** Deepest first, so that emptied children make room for their parents' deletion. */
function deepestFirst(store: CorpStore, ids: Iterable<number>): number[] {
  return [...ids]
    .map((id) => ({ id, depth: store.depth(id) }))
    .sort((a, b) => b.depth - a.depth)
    .map((d) => d.id);
}

/**
 * Retries the deletions replaceparty had to postpone: run at the end of every member import, which
 * may have emptied those departments.
 */
export function retryPendingPartyDeletions(store: CorpStore): void {
  const pending = pendingPartyDeletions(store);
  for (const id of deepestFirst(store, pending)) {
    if (!store.getDepartment(id) || deleteIfEmpty(store, id)) pending.delete(id);
  }
}

/** Units of work of a replaceparty job: one per record and one per department to delete. */
export function replacePartyUnits(store: CorpStore, rows: PartyRow[]): number {
  const inFile = new Set(rows.map((r) => r.id));
  let deletions = 0;
  for (const id of store.departments.keys()) if (id !== ROOT_DEPARTMENT_ID && !inFile.has(id)) deletions++;
  return rows.length + deletions;
}

/** The replaceparty work: one yield per record, then one per department not in the file. */
export function* replaceParties(store: CorpStore, rows: PartyRow[], results: PartyImportResult[]): Generator<void> {
  const pending = pendingPartyDeletions(store);
  for (const row of parentsFirst(rows)) {
    pending.delete(row.id);
    results.push(applyRow(store, row));
    yield;
  }
  const inFile = new Set(rows.map((r) => r.id));
  const stale = [...store.departments.keys()].filter((id) => id !== ROOT_DEPARTMENT_ID && !inFile.has(id));
  for (const id of deepestFirst(store, stale)) {
    if (store.getDepartment(id) && !deleteIfEmpty(store, id)) pending.add(id);
    yield;
  }
}
