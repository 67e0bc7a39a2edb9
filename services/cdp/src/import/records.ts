// Streams the records of a CSV (csv-parse, RFC 4180) or NDJSON file with their line numbers and byte offsets, so an import can resume mid-file.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Parser, type CsvError, type Options } from 'csv-parse';

export type FileFormat = 'csv' | 'ndjson';

export interface SourceRecord {
  /** The record's first line in the file, 1-based. */
  line: number;
  /** The line it ends on (a quoted field may hold line breaks). */
  endLine: number;
  /** The byte just past the record before it: the record, and any empty lines before it, lie from here to `endOffset`. */
  startOffset: number;
  /** The byte just past the record and its line break: where reading resumes after it. */
  endOffset: number;
  /** The record as written, for an NDJSON line or a record that could not be read; a CSV row's is read back by rawOf. */
  raw?: string;
  /** Column names and their cells, in step; absent when the record could not be read, and `problem` says why. */
  columns?: readonly string[];
  values?: readonly unknown[];
  problem?: string;
}

/** Where to start reading: past the header, or after the last record an earlier run finished with. */
export interface ReadFrom {
  offset: number;
  /** The number of lines before `offset`. */
  line: number;
}

/** A record bigger than this is a quote left open, not a customer: ingest refuses events over 32 KB anyway. */
export const maxRecordBytes = 256 * 1024;
const chunkBytes = 256 * 1024;

export function formatOf(file: string): FileFormat | null {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  return null;
}

interface Parsed {
  fields: string[];
  bytes: number;
  emptyLines: number;
}

/**
 * csv-parse's stream, each record taken as it is pushed, with the offsets the parser's own `info` holds at that
 * moment (what `on_record` would be handed, without the object csv-parse builds for it on every record).
 */
class OffsetParser extends Parser {
  readonly #onRecord: (record: Parsed) => void;

  constructor(options: Options, onRecord: (record: Parsed) => void) {
    super(options);
    this.#onRecord = onRecord;
  }

  override push(record: unknown): boolean {
    if (record === null) return super.push(null);
    this.#onRecord({ fields: record as string[], bytes: this.info.bytes, emptyLines: this.info.empty_lines });
    return true;
  }
}

/**
 * Parses CSV from `offset` and yields the records of each chunk as csv-parse hands them over, until the end or the
 * first error (returned). Records are collected as they are pushed, so none parsed before an error is lost.
 */
async function* parseFrom(file: string, offset: number): AsyncGenerator<Parsed[], CsvError | null> {
  let queue: Parsed[] = [];
  const parser = new OffsetParser(
    { bom: offset === 0, relax_column_count: true, skip_empty_lines: true, max_record_size: maxRecordBytes },
    (record) => queue.push(record),
  );
  let failure: CsvError | null = null;
  parser.on('error', (error: CsvError) => (failure ??= error));
  const write = (chunk: Buffer) => new Promise<void>((resolve) => parser.write(chunk, () => resolve()));
  const taken = () => {
    const records = queue;
    queue = [];
    return records;
  };
  const stream = createReadStream(file, { start: offset, highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) {
      await write(chunk as Buffer);
      if (queue.length > 0) yield taken();
      if (failure) return failure;
    }
    await new Promise<void>((resolve) => parser.end(() => resolve()));
    if (queue.length > 0) yield taken();
    return failure;
  } finally {
    stream.destroy();
  }
}

interface Line {
  /** The line without its break (cut at maxRecordBytes when longer, and then `tooLong`). */
  text: string;
  line: number;
  endOffset: number;
  tooLong: boolean;
}

/** The lines of a file from `offset` (`line` lines before it), with the offset after each; never holds a line past maxRecordBytes. */
async function* linesFrom(file: string, offset: number, line: number): AsyncGenerator<Line[]> {
  let current = line;
  let lineStart = offset;
  let head: Buffer[] = [];
  let headBytes = 0;
  let tooLong = false;
  const take = (part: Buffer) => {
    const room = maxRecordBytes - headBytes;
    if (part.length > room) tooLong = true;
    if (room > 0) {
      head.push(part.subarray(0, room));
      headBytes += Math.min(room, part.length);
    }
  };
  const finish = (endOffset: number): Line => {
    let text = Buffer.concat(head, headBytes).toString('utf8');
    if (current === 0 && lineStart === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    current += 1;
    const done = { text: text.replace(/\r$/, ''), line: current, endOffset, tooLong };
    head = [];
    headBytes = 0;
    tooLong = false;
    lineStart = endOffset;
    return done;
  };
  const stream = createReadStream(file, { start: offset, highWaterMark: chunkBytes });
  let position = offset;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const lines: Line[] = [];
      let from = 0;
      for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, from)) {
        take(chunk.subarray(from, newline));
        lines.push(finish(position + newline + 1));
        from = newline + 1;
      }
      take(chunk.subarray(from));
      position += chunk.length;
      if (lines.length > 0) yield lines;
    }
    if (headBytes > 0 || tooLong) yield [finish(position)];
  } finally {
    stream.destroy();
  }
}

/** The first non-empty line at or after `offset`. */
async function lineAt(file: string, offset: number, line: number): Promise<Line | null> {
  for await (const lines of linesFrom(file, offset, line))
    for (const found of lines) if (found.text.trim() !== '') return found;
  return null;
}

const csvProblems: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a quote is left open, or a stray quote sits inside a field',
  CSV_MAX_RECORD_SIZE: `the record runs past ${maxRecordBytes / 1024} KB: a quote is left open`,
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text follows the closing quote of a field',
};

const trimBreaks = (raw: string) => raw.replace(/^[\r\n]+|[\r\n]+$/g, '');

/** Line breaks inside a record's fields: csv-parse counts a CRLF inside quotes as two lines, so they are counted here. */
function countBreaks(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) for (let at = field.indexOf('\n'); at >= 0; at = field.indexOf('\n', at + 1)) count += 1;
  return count;
}

/** The record as written, without the empty lines before it and its line break: an NDJSON line, or read back from the file. */
export function rawOf(file: string, record: SourceRecord): string {
  if (record.raw !== undefined) return record.raw;
  const length = Math.min(record.endOffset - record.startOffset, maxRecordBytes);
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, buffer, 0, length, record.startOffset);
    return trimBreaks(buffer.subarray(0, read).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** The header of a CSV file: its column names and where the first record starts. */
export async function csvHeader(file: string): Promise<{ columns: string[]; from: ReadFrom } | { problem: string }> {
  const parsing = parseFrom(file, 0);
  try {
    const first = await parsing.next();
    if (first.done)
      return {
        problem: first.value
          ? `the header cannot be read: ${first.value.message}`
          : 'the file is empty: a CSV import needs a header line',
      };
    const { fields, bytes, emptyLines } = first.value[0] as Parsed;
    return {
      columns: fields.map((name) => name.trim()),
      from: { offset: bytes, line: emptyLines + 1 + countBreaks(fields) },
    };
  } finally {
    await parsing.return(null);
  }
}

/**
 * The records of a CSV file after `from`, a chunk at a time, with the header's column names. A record csv-parse
 * cannot read (a quote left open, a stray quote) is yielded as a problem at its first line, and reading starts again
 * on the line after it, so one broken line never takes the rest of the file with it.
 */
export async function* csvRecords(
  file: string,
  columns: readonly string[],
  from: ReadFrom,
): AsyncGenerator<SourceRecord[]> {
  let offset = from.offset;
  let line = from.line;
  for (;;) {
    const parsing = parseFrom(file, offset);
    let base = { offset, line, emptyLines: 0 };
    let step = await parsing.next();
    while (!step.done) {
      const records: SourceRecord[] = [];
      for (const record of step.value) {
        const startLine = base.line + 1 + (record.emptyLines - base.emptyLines);
        const endLine = startLine + countBreaks(record.fields);
        const endOffset = offset + record.bytes;
        records.push(
          record.fields.length === columns.length
            ? { line: startLine, endLine, startOffset: base.offset, endOffset, columns, values: record.fields }
            : {
                line: startLine,
                endLine,
                startOffset: base.offset,
                endOffset,
                problem: `${record.fields.length} fields where the header has ${columns.length}`,
              },
        );
        base = { offset: endOffset, line: endLine, emptyLines: record.emptyLines };
      }
      yield records;
      step = await parsing.next();
    }
    const failure = step.value;
    if (!failure) return;
    const broken = await lineAt(file, base.offset, base.line);
    if (!broken) return;
    const problem = csvProblems[failure.code] ?? failure.message;
    yield [
      {
        line: broken.line,
        endLine: broken.line,
        startOffset: base.offset,
        endOffset: broken.endOffset,
        raw: broken.text,
        problem,
      },
    ];
    offset = broken.endOffset;
    line = broken.line;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The records of an NDJSON file after `from`, a chunk at a time: one JSON object a line, empty lines skipped. */
export async function* ndjsonRecords(file: string, from: ReadFrom): AsyncGenerator<SourceRecord[]> {
  let startOffset = from.offset;
  for await (const lines of linesFrom(file, from.offset, from.line)) {
    const records: SourceRecord[] = [];
    for (const { text, line, endOffset, tooLong } of lines) {
      const record = { line, endLine: line, startOffset, endOffset, raw: text };
      startOffset = endOffset;
      if (text.trim() === '') continue;
      if (tooLong) {
        records.push({ ...record, problem: `the line is longer than ${maxRecordBytes / 1024} KB` });
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        records.push({ ...record, problem: `not JSON: ${(error as Error).message}` });
        continue;
      }
      if (isObject(value)) records.push({ ...record, columns: Object.keys(value), values: Object.values(value) });
      else records.push({ ...record, problem: 'not a JSON object' });
    }
    if (records.length > 0) yield records;
  }
}
