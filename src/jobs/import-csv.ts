import { CsvSyntaxError, csvRecords, decodeUtf8, neutraliseRecords, parseCsv, writeCsv } from 'wecom-protocol/csv';
import { MEDIA_MAX_BYTES, MEDIA_MIN_EXCLUSIVE_BYTES } from 'wecom-protocol/limits';

/**
 * The CSV files of WeCom's asynchronous import (docs/wecom-api.md §6.2): written from typed rows in
 * the layout the import reads, and checked before an uploaded file costs any quota.
 *
 * Member files use the newer template header (the official header row is unconfirmed, §13; it is
 * the layout the emulator reads, packages/wecom-emulator/src/import-users.ts):
 *   姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用
 * with `;`-separated department ids, leader flags (0/1) and orders aligned with them, 性别 男/女
 * and 禁用 1 (disabled) / 0 (enabled). Department files: 部门名称,部门ID,父部门ID,排序.
 * Files are UTF-8 without a byte-order mark (a BOM would become part of the first column's
 * name for a parser that does not expect one), lines end in CRLF (RFC 4180).
 */

export const MEMBER_CSV_HEADER = [
  '姓名',
  '帐号',
  '手机号',
  '邮箱',
  '所在部门',
  '职位',
  '性别',
  '是否部门内领导',
  '排序',
  '别名',
  '地址',
  '座机',
  '禁用',
] as const;
export const DEPARTMENT_CSV_HEADER = ['部门名称', '部门ID', '父部门ID', '排序'] as const;

/** A member record of a member file. Absent optional fields are empty cells. */
export interface MemberCsvRow {
  userid: string;
  name: string;
  departmentIds: number[];
  mobile?: string;
  email?: string;
  position?: string;
  gender?: '1' | '2';
  /** Aligned with departmentIds. */
  isLeaderInDept?: boolean[];
  /** Aligned with departmentIds. */
  order?: number[];
  alias?: string;
  address?: string;
  telephone?: string;
  enable?: boolean;
}

export interface DepartmentCsvRow {
  departmentId: number;
  name: string;
  /** 0 only for the root department (id 1). */
  parentId: number;
  /** Omitted (or 0): the import leaves the order as it is. */
  order?: number;
}

/**
 * The columns whose cells WeCom validates to characters no spreadsheet can turn into a function
 * call: userids (a letter or digit first), mobiles ("+86 138…"), department ids, flags, orders and
 * telephones (digits and + - , ; and spaces). They are written as they are: an apostrophe would
 * corrupt the phone numbers WeCom matches on, and a formula there is refused by WeCom's own
 * checks. Every other cell (names, positions, aliases, addresses, emails, custom fields) is free
 * text, and one that starts like a formula is neutralised (wecom-protocol/csv): in the files the
 * service writes from rows and in uploaded files alike.
 */
const FORMULA_FREE_COLUMNS: Record<ImportFileKind, ReadonlySet<string>> = {
  members: new Set(['帐号', '账号', '手机号', '手机', '所在部门', '性别', '是否部门内领导', '排序', '座机', '禁用']),
  departments: new Set(['部门ID', '父部门ID', '排序']),
};

const plain = (value: string | number | undefined) => (value === undefined ? '' : String(value));
const list = (values: readonly (string | number)[] | undefined) => plain(values?.join(';'));

function toCsv(kind: ImportFileKind, header: readonly string[], records: string[][]): Buffer {
  return writeCsv(neutraliseRecords([header, ...records], FORMULA_FREE_COLUMNS[kind]).records);
}

/** A member file (for batch/syncuser and batch/replaceuser). */
export function memberCsv(rows: readonly MemberCsvRow[]): Buffer {
  return toCsv(
    'members',
    MEMBER_CSV_HEADER,
    rows.map((r) => [
      plain(r.name),
      plain(r.userid),
      plain(r.mobile),
      plain(r.email),
      list(r.departmentIds),
      plain(r.position),
      plain(r.gender === '1' ? '男' : r.gender === '2' ? '女' : undefined),
      list(r.isLeaderInDept?.map((b) => (b ? 1 : 0))),
      list(r.order),
      plain(r.alias),
      plain(r.address),
      plain(r.telephone),
      plain(r.enable === undefined ? undefined : r.enable ? 0 : 1),
    ]),
  );
}

/** A department file (for batch/replaceparty). */
export function departmentCsv(rows: readonly DepartmentCsvRow[]): Buffer {
  return toCsv(
    'departments',
    DEPARTMENT_CSV_HEADER,
    rows.map((r) => [plain(r.name), plain(r.departmentId), plain(r.parentId), plain(r.order || undefined)]),
  );
}

// ── checking an uploaded file ───────────────────────────────────────────────

/** Why an import file cannot be submitted (the caller names the argument at fault). */
export class ImportFileError extends Error {}

export type ImportFileKind = 'members' | 'departments';

/** Required columns, each given as the spellings accepted for it (WeCom answers 40092 without them). */
const REQUIRED_COLUMNS: Record<ImportFileKind, readonly (readonly string[])[]> = {
  members: [['姓名'], ['帐号', '账号'], ['所在部门'], ['手机号', '手机', '邮箱']],
  departments: [['部门名称'], ['部门ID'], ['父部门ID']],
};

/**
 * Checks what WeCom would refuse a file for as a whole, before anything is uploaded: the size
 * media/upload accepts (> 5 bytes, ≤ 20 MB for files, §6.1), UTF-8 (§6.2; Excel's default GBK
 * export is the classic mistake), the required header columns and at least one record (40092).
 * Only the header and the first record are read: the rows themselves are WeCom's to judge.
 */
export function checkImportFile(bytes: Uint8Array, kind: ImportFileKind): void {
  checkImportFileSize(bytes.length);
  const text = decodeUtf8(bytes);
  if (text === null) throw new ImportFileError('the file is not UTF-8 encoded (save it as "CSV UTF-8")');
  // csvRecords skips blank lines as the import does, so the header is the first line with content.
  const records = csvRecords(text);
  const [header, firstRow] = readingCsv(() => [records.next(), records.next()]);
  const columns = new Set(header.done ? [] : header.value.cells);
  for (const spellings of REQUIRED_COLUMNS[kind]) {
    if (!spellings.some((s) => columns.has(s))) {
      throw new ImportFileError(
        `the header row has no ${spellings.join(' / ')} column (expected ${kind === 'members' ? MEMBER_CSV_HEADER.join(',') : DEPARTMENT_CSV_HEADER.join(',')})`,
      );
    }
  }
  if (firstRow.done) throw new ImportFileError('the file has a header row but no records');
}

/**
 * An uploaded file (checked by checkImportFile) with its free-text cells neutralised like the
 * files written from rows; the bytes as they were when no cell starts like a formula.
 */
export function neutraliseImportFile(bytes: Buffer, kind: ImportFileKind): Buffer {
  const text = decodeUtf8(bytes);
  if (text === null) throw new ImportFileError('the file is not UTF-8 encoded (save it as "CSV UTF-8")');
  const { records, changed } = neutraliseRecords(
    readingCsv(() => parseCsv(text)),
    FORMULA_FREE_COLUMNS[kind],
  );
  return changed ? writeCsv(records) : bytes;
}

/** Runs `read`, reporting text that is not CSV as an ImportFileError (WeCom would answer 40092). */
function readingCsv<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new ImportFileError(`the file is not valid CSV: ${error.message}`);
    throw error;
  }
}

/** media/upload's size rule for files: more than 5 bytes, at most 20 MB. */
export function checkImportFileSize(size: number): void {
  if (size <= MEDIA_MIN_EXCLUSIVE_BYTES) throw new ImportFileError(`the file must be larger than ${MEDIA_MIN_EXCLUSIVE_BYTES} bytes`);
  if (size > MEDIA_MAX_BYTES.file) throw new ImportFileError(`the file must be at most ${MEDIA_MAX_BYTES.file / (1024 * 1024)} MB`);
}
