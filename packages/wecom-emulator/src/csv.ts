import { CsvSyntaxError, decodeUtf8, parseCsv } from 'wecom-protocol/csv';
import { fail } from './errors.ts';

/**
 * The import jobs' view of a CSV file (docs/wecom-api.md §6.2): the shared reader (wecom-protocol/csv)
 * with WeCom's answer to a file it cannot read, illegal content (40092).
 */

/** The rows of a UTF-8 CSV file; 40092 when the bytes are not UTF-8 or not CSV. */
function readCsv(bytes: Buffer): string[][] {
  const text = decodeUtf8(bytes);
  if (text === null) throw fail(40092, 'the file is not UTF-8 encoded');
  try {
    return parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw fail(40092, error.message);
    throw error;
  }
}

/** A CSV file read by its header row: columns are found by name, so their order does not matter. */
export interface CsvTable {
  /** Column index by header name (the first occurrence of a name wins). */
  columns: Map<string, number>;
  /** Data rows with their record numbers (the header is record 1; blank lines are not counted). */
  rows: { line: number; cells: string[] }[];
}

/** Reads a UTF-8 CSV file with a header row; 40092 when empty or without data rows. */
export function readCsvTable(bytes: Buffer): CsvTable {
  const [header, ...data] = readCsv(bytes);
  if (!header) throw fail(40092, 'the file is empty');
  if (!data.length) throw fail(40092, 'the file has a header but no records');
  const columns = new Map<string, number>();
  header.forEach((name, i) => {
    if (name && !columns.has(name)) columns.set(name, i);
  });
  return { columns, rows: data.map((cells, i) => ({ line: i + 2, cells })) };
}

/** The cell of `column` in a row ('' when the column is absent or the row is short). */
export function cell(table: CsvTable, cells: string[], column: string): string {
  const index = table.columns.get(column);
  return index === undefined ? '' : (cells[index] ?? '');
}
