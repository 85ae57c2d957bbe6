/**
 * The CSV files of WeCom's asynchronous import (docs/wecom-api.md §6.2): reading them, for the
 * service that checks a file before uploading it and for the emulator that imports it; writing
 * them; and the one rule for text a spreadsheet would run as a formula. Files must be UTF-8:
 * Excel's default GBK export is the classic mistake, and WeCom refuses it as illegal content
 * (40092). A UTF-8 byte-order mark is tolerated. Fields follow RFC 4180: comma-separated,
 * optionally in double quotes (which may hold commas, quotes written as "" and line breaks);
 * lines end in CRLF or LF.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A file's bytes as UTF-8 text without its BOM; null when the bytes are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Text that is not CSV: an unterminated quote, or text after a closing quote (WeCom: 40092). */
export class CsvSyntaxError extends Error {}

/**
 * The records of CSV text, one at a time (a caller that needs only the header stops early). Every
 * field is trimmed of surrounding spaces (spreadsheet exports pad cells), and lines with no
 * content are skipped. `line` is the text line the record starts on.
 */
export function* csvRecords(text: string): Generator<{ line: number; cells: string[] }> {
  let row: string[] = [];
  let rowLine = 1;
  let field = '';
  let quoted = false;
  let afterQuote = false;
  let line = 1;

  const endField = () => {
    row.push(field.trim());
    field = '';
    afterQuote = false;
  };
  /** The finished record, or undefined for a line with no content. */
  const endRow = () => {
    endField();
    const record = row.some((cell) => cell !== '') ? { line: rowLine, cells: row } : undefined;
    row = [];
    return record;
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
      const record = endRow();
      if (record) yield record;
      line++;
      rowLine = line;
    } else if (ch === '"' && field.trim() === '' && !afterQuote) {
      field = '';
      quoted = true;
    } else if (afterQuote && ch !== ' ' && ch !== '\t') {
      throw new CsvSyntaxError(`line ${line}: text after a closing quote`);
    } else {
      field += ch;
    }
  }
  if (quoted) throw new CsvSyntaxError(`line ${line}: unterminated quoted field`);
  const record = endRow();
  if (record) yield record;
}

/** All records of CSV text as rows of fields (see csvRecords). */
export function parseCsv(text: string): string[][] {
  return Array.from(csvRecords(text), (record) => record.cells);
}

// ── writing ─────────────────────────────────────────────────────────────────

/** RFC 4180 quoting: fields holding a comma, a quote or a line break are quoted, quotes doubled. */
function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Records as a file: UTF-8 without a byte-order mark, lines ending in CRLF (RFC 4180). */
export function writeCsv(records: readonly (readonly string[])[]): Buffer {
  return Buffer.from(`${records.map((cells) => cells.map(quote).join(',')).join('\r\n')}\r\n`, 'utf8');
}

// ── text a spreadsheet would run ────────────────────────────────────────────

/**
 * What makes a spreadsheet read a cell as a formula: =, +, - or @ first, or a tab or carriage
 * return that some spreadsheets skip before looking (OWASP "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function startsLikeFormula(text: string): boolean {
  return FORMULA_START.test(text);
}

/**
 * Text that starts like a formula gets a leading apostrophe, the spreadsheet convention for "this
 * is text" (`=HYPERLINK(…)` becomes `'=HYPERLINK(…)`); anything else is returned as it is, so the
 * rule can be applied twice. WeCom stores the apostrophe with the text, which keeps the value inert
 * in every export a spreadsheet may later open (the admin console's, or a tool's).
 */
export function neutraliseFormula(text: string): string {
  return startsLikeFormula(text) ? `'${text}` : text;
}

/**
 * A file's records (the header row first) with every cell neutralised except in the columns
 * named in `formulaFree` (values WeCom validates to characters no spreadsheet runs: ids, mobiles,
 * flags). The header row is left as it is: WeCom reads it, it stores none of it.
 */
export function neutraliseRecords(
  records: readonly (readonly string[])[],
  formulaFree: ReadonlySet<string>,
): { records: string[][]; changed: boolean } {
  const [header = [], ...rows] = records;
  let changed = false;
  const neutralised = rows.map((cells) =>
    cells.map((cell, i) => {
      if (formulaFree.has(header[i] ?? '') || !startsLikeFormula(cell)) return cell;
      changed = true;
      return neutraliseFormula(cell);
    }),
  );
  return { records: [[...header], ...neutralised], changed };
}
