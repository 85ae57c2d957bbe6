import { CsvSyntaxError, csvRecords, decodeUtf8 } from 'wecom-protocol/csv';
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
 * Characters that make a spreadsheet treat a cell as a formula (=, +, -, @), and the tab and
 * carriage return that some spreadsheets strip before looking (OWASP "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A free-text cell (name, position, alias, address, email) that starts like a formula gets a
 * leading apostrophe, the spreadsheet convention for "this is text". WeCom's import stores cell
 * text as it is (the emulator's parser keeps the apostrophe), so such a value arrives in WeCom as
 * "'=…": deliberately, since it then stays inert in every later export a spreadsheet may open.
 * Cells whose values are validated to a formula-free character set are written as they are:
 * userids start with a letter or digit, and mobiles ("+86 138…"), telephones, department ids,
 * flags and orders hold only digits and + - , ; and spaces, which no spreadsheet can turn into a
 * function call; quoting them would corrupt the phone numbers WeCom matches on.
 */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** RFC 4180 quoting: fields holding a comma, a quote or a line break are quoted, quotes doubled. */
function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const freeText = (value: string | undefined) => quote(neutraliseFormula(value ?? ''));
const plain = (value: string | number | undefined) => quote(value === undefined ? '' : String(value));
const list = (values: readonly (string | number)[] | undefined) => plain(values?.join(';'));

function toCsv(header: readonly string[], records: string[][]): Buffer {
  const lines = [header.join(','), ...records.map((cells) => cells.join(','))];
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

/** A member file (for batch/syncuser and batch/replaceuser). */
export function memberCsv(rows: readonly MemberCsvRow[]): Buffer {
  return toCsv(
    MEMBER_CSV_HEADER,
    rows.map((r) => [
      freeText(r.name),
      plain(r.userid),
      plain(r.mobile),
      freeText(r.email),
      list(r.departmentIds),
      freeText(r.position),
      plain(r.gender === '1' ? '男' : r.gender === '2' ? '女' : undefined),
      list(r.isLeaderInDept?.map((b) => (b ? 1 : 0))),
      list(r.order),
      freeText(r.alias),
      freeText(r.address),
      plain(r.telephone),
      plain(r.enable === undefined ? undefined : r.enable ? 0 : 1),
    ]),
  );
}

/** A department file (for batch/replaceparty). */
export function departmentCsv(rows: readonly DepartmentCsvRow[]): Buffer {
  return toCsv(
    DEPARTMENT_CSV_HEADER,
    rows.map((r) => [freeText(r.name), plain(r.departmentId), plain(r.parentId), plain(r.order || undefined)]),
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
