import { fail } from './errors.ts';

/**
 * The CSV reader of the import jobs (wecom-api.md §6.2). Files must be UTF-8: Excel's default
 * GBK export is the classic mistake, and WeCom refuses it as illegal content (40092). A UTF-8
 * byte-order mark is tolerated. Fields follow RFC 4180: comma-separated, optionally in double
 * quotes (which may hold commas, quotes written as "" and line breaks); lines end in CRLF or LF.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a file's bytes as UTF-8, dropping a BOM; 40092 when the bytes are not UTF-8. */
export function decodeUtf8(bytes: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw fail(40092, 'the file is not UTF-8 encoded');
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Splits CSV text into rows of fields. Every field is trimmed of surrounding spaces (spreadsheet
 * exports pad cells), and lines with no content are skipped. An unterminated quote or text after
 * a closing quote makes the file illegal (40092).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let afterQuote = false;
  let line = 1;

  const endField = () => {
    row.push(field.trim());
    field = '';
    afterQuote = false;
  };
  const endRow = () => {
    endField();
    if (row.some((cell) => cell !== '')) rows.push(row);
    row = [];
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === ',') endField();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else if (ch === '"' && field.trim() === '' && !afterQuote) {
      field = '';
      quoted = true;
    } else if (afterQuote && ch !== ' ' && ch !== '\t') {
      throw fail(40092, `line ${line}: text after a closing quote`);
    } else {
      field += ch;
    }
  }
  if (quoted) throw fail(40092, `line ${line}: unterminated quoted field`);
  endRow();
  return rows;
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
  const [header, ...data] = parseCsv(decodeUtf8(bytes));
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
