/**
 * Reading the CSV files of WeCom's asynchronous import (docs/wecom-api.md §6.2), for the service that
 * checks a file before uploading it and for the emulator that imports it. Files must be UTF-8:
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
