import { readFileSync } from 'node:fs';
import { readSparkCsv } from '../helpers/fixtures.js';

export interface CsvTable {
  readonly header: string[];
  readonly rows: string[][];
}

export interface CsvOptions {
  /** Column names for a file that has no header line. */
  readonly header?: readonly string[];
  /**
   * Quoted fields may span lines (RFC 4180, as pandas and Spark's `multiLine` read them).
   * Off, a record is one line, as Spark's CSV reader reads by default.
   */
  readonly multiLine?: boolean;
}

export function readCsv(file: string, options: CsvOptions = {}): CsvTable {
  if (!options.multiLine) {
    const { header, rows } = readSparkCsv(file);
    const table = options.header ? { header: [...options.header], rows: [header, ...rows] } : { header, rows };
    return stripBom(table);
  }
  const records = parseMultiLine(readFileSync(file, 'utf8'));
  return stripBom(options.header ? { header: [...options.header], rows: records } : { header: records[0] ?? [], rows: records.slice(1) });
}

/** A UTF-8 byte order mark would otherwise become part of the first column's name. */
function stripBom(table: CsvTable): CsvTable {
  const first = table.header[0];
  if (first?.startsWith('\ufeff')) table.header[0] = first.slice(1);
  const cell = table.rows[0]?.[0];
  if (cell?.startsWith('\ufeff')) table.rows[0]![0] = cell.slice(1);
  return table;
}

function parseMultiLine(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}
