import type { InputField } from '../pipeline/input-schema.js';

/**
 * A streaming CSV reader (RFC 4180 with the usual leniencies): fields separated by commas,
 * records by LF or CRLF; a quoted field may hold commas, line breaks and doubled quotes;
 * a quote inside an unquoted field is literal. Text is pushed in chunks of any size; each
 * completed record is handed to `onRecord` with the character position just past it.
 */
export class CsvParser {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  /** Inside quotes: a quote was just seen and may be the first of a doubled pair. */
  private quotePending = false;
  private fieldStarted = false;
  /** The record has had any character other than a line break (so it is not a blank line). */
  private recordStarted = false;
  private consumed = 0;

  constructor(private readonly onRecord: (fields: string[], end: number) => void) {}

  push(text: string): void {
    const base = this.consumed;
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.quoted) {
        if (this.quotePending) {
          this.quotePending = false;
          if (text.charCodeAt(i) === 34) {
            this.field += '"';
            i++;
            continue;
          }
          this.quoted = false;
          continue;
        }
        const q = text.indexOf('"', i);
        if (q < 0) {
          this.field += text.slice(i);
          break;
        }
        this.field += text.slice(i, q);
        this.quotePending = true;
        i = q + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === 44) {
        this.endField();
        this.recordStarted = true;
        i++;
      } else if (c === 10) {
        this.endRecord(base + i + 1);
        i++;
      } else if (c === 13) {
        i++;
      } else if (c === 34 && !this.fieldStarted) {
        this.quoted = true;
        this.fieldStarted = true;
        this.recordStarted = true;
        i++;
      } else {
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 44 || d === 10 || d === 13) break;
          j++;
        }
        this.field += text.slice(i, j);
        this.fieldStarted = true;
        this.recordStarted = true;
        i = j;
      }
    }
    this.consumed = base + n;
  }

  /** Flushes a last record without a trailing newline; an unterminated quote is an error. */
  end(): void {
    if (this.quoted && !this.quotePending) throw new Error('the file ends inside a quoted field');
    this.quoted = false;
    this.quotePending = false;
    this.endRecord(this.consumed);
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
    this.fieldStarted = false;
  }

  private endRecord(end: number): void {
    // A blank line is no record.
    if (!this.recordStarted) return;
    this.endField();
    const fields = this.record;
    this.record = [];
    this.recordStarted = false;
    this.onRecord(fields, end);
  }
}

/**
 * Turns a CSV cell into the value its input_schema type expects. A cell that does not
 * parse as its type is passed on as text, so the runtime's schema check reports it
 * (SCHEMA_VIOLATION) rather than the producer dropping it. Empty cells are null.
 */
export function csvValue(cell: string, field: InputField | undefined): unknown {
  if (!field) return cell;
  if (cell === '') return field.type === 'STRING' && !field.nullable ? '' : null;
  switch (field.type) {
    case 'STRING':
      return cell;
    case 'INTEGER':
    case 'LONG': {
      if (!/^\s*[+-]?\d+\s*$/.test(cell)) return cell;
      const n = Number(cell);
      return Number.isSafeInteger(n) ? n : cell;
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = Number(cell);
      return cell.trim() !== '' && Number.isFinite(n) ? n : cell;
    }
    case 'BOOLEAN': {
      const v = cell.trim().toLowerCase();
      return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : cell;
    }
    case 'ARRAY<STRING>':
    case 'VECTOR':
      try {
        return JSON.parse(cell);
      } catch {
        return cell;
      }
  }
}
