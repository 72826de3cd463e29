import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { InputField } from '../pipeline/input-schema.js';
import { CsvParser, csvValue } from './csv.js';

export type FileType = 'jsonl' | 'csv';

export interface InputFile {
  readonly path: string;
  /** How the file is named in auto ids and messages: its path below the given folder. */
  readonly name: string;
  readonly type: FileType;
  readonly bytes: number;
}

export const STDIN = '-';

const TYPES_BY_EXTENSION: Record<string, FileType> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };

/**
 * The files to read: the file itself, or every non-hidden file below a folder (in path
 * order) whose extension says what it holds. `forced` reads every file as that type.
 */
export async function listInputs(path: string, forced?: FileType): Promise<{ files: InputFile[]; ignored: string[] }> {
  // `-` is standard input, as for cat and kcat; its size is unknown, so progress shows counts only.
  if (path === STDIN) return { files: [{ path, name: 'stdin', type: forced ?? 'jsonl', bytes: 0 }], ignored: [] };
  const info = await stat(path);
  const candidates = info.isDirectory()
    ? (await readdir(path, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name))
        .filter((p) => !relative(path, p).split('/').some((part) => part.startsWith('.')))
        .sort()
    : [path];
  const files: InputFile[] = [];
  const ignored: string[] = [];
  for (const p of candidates) {
    const type = forced ?? TYPES_BY_EXTENSION[extname(p).toLowerCase()];
    if (!type) {
      ignored.push(p);
      continue;
    }
    files.push({ path: p, name: info.isDirectory() ? relative(path, p) : basename(p), type, bytes: (await stat(p)).size });
  }
  return { files, ignored };
}

/** Records read from one stretch of a file. */
export interface RecordBlock {
  readonly records: Record<string, unknown>[];
  /** Per record: its line (JSONL) or data row (CSV) number, from 1. */
  readonly numbers: number[];
  /** Per record: bytes of the file read up to its end (for progress). */
  readonly ends: number[];
  /** Lines or rows that are no record, as "file:n: reason", each with the number of records read before it in this block. */
  readonly problems: Array<{ readonly before: number; readonly text: string }>;
}

const CHUNK_BYTES = 256 * 1024;

export function readRecords(file: InputFile, schema: ReadonlyMap<string, InputField> | undefined): AsyncGenerator<RecordBlock> {
  return file.type === 'jsonl' ? readJsonl(file) : readCsv(file, schema);
}

async function* readJsonl(file: InputFile): AsyncGenerator<RecordBlock> {
  let carry: Buffer | null = null;
  let carryStart = 0;
  let line = 0;
  let position = 0;
  for await (const chunk of openInput(file)) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const bufStart: number = carry ? carryStart : position;
    position += chunk.length;
    const block = emptyBlock();
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl >= 0; nl = buf.indexOf(10, from)) {
      line++;
      parseJsonLine(buf.subarray(from, nl), file, line, bufStart + nl + 1, block);
      from = nl + 1;
    }
    carry = from < buf.length ? buf.subarray(from) : null;
    carryStart = bufStart + from;
    yield block;
  }
  if (carry) {
    const block = emptyBlock();
    parseJsonLine(carry, file, line + 1, position, block);
    yield block;
  }
}

function parseJsonLine(bytes: Buffer, file: InputFile, line: number, end: number, block: RecordBlock): void {
  const text = bytes.toString('utf8').trim();
  if (text === '') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    block.problems.push({ before: block.records.length, text: `${file.name}:${line}: not JSON (${(e as Error).message})` });
    return;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    block.problems.push({ before: block.records.length, text: `${file.name}:${line}: not a JSON object` });
    return;
  }
  block.records.push(parsed as Record<string, unknown>);
  block.numbers.push(line);
  block.ends.push(end);
}

async function* readCsv(file: InputFile, schema: ReadonlyMap<string, InputField> | undefined): AsyncGenerator<RecordBlock> {
  let header: string[] | undefined;
  let row = 0;
  let block = emptyBlock();
  // The parser counts characters; progress wants bytes: scale within the current chunk.
  let charBase = 0;
  let byteBase = 0;
  let bytesPerChar = 1;
  const parser = new CsvParser((fields, endChar) => {
    const end = Math.round(byteBase + (endChar - charBase) * bytesPerChar);
    if (!header) {
      header = fields.map((h, k) => (k === 0 ? h.replace(/^\uFEFF/, '') : h));
      return;
    }
    row++;
    if (fields.length !== header.length) {
      block.problems.push({ before: block.records.length, text: `${file.name}: data row ${row} has ${fields.length} fields; the header has ${header.length}` });
      return;
    }
    const record: Record<string, unknown> = {};
    header.forEach((name, k) => {
      if (name !== '__proto__') record[name] = csvValue(fields[k]!, schema?.get(name));
    });
    block.records.push(record);
    block.numbers.push(row);
    block.ends.push(end);
  });
  const decoder = new StringDecoder('utf8');
  for await (const chunk of openInput(file)) {
    const text = decoder.write(chunk);
    bytesPerChar = text.length > 0 ? chunk.length / text.length : 1;
    parser.push(text);
    charBase += text.length;
    byteBase += chunk.length;
    yield block;
    block = emptyBlock();
  }
  parser.push(decoder.end());
  try {
    parser.end();
  } catch (e) {
    block.problems.push({ before: block.records.length, text: `${file.name}: ${(e as Error).message}` });
  }
  yield block;
}

function openInput(file: InputFile): AsyncIterable<Buffer> {
  return file.path === STDIN ? process.stdin : createReadStream(file.path, { highWaterMark: CHUNK_BYTES });
}

function emptyBlock(): RecordBlock {
  return { records: [], numbers: [], ends: [], problems: [] };
}
