// Reading import files: RFC 4180 CSV with its awkward corners, broken records that spoil no neighbour, NDJSON, and resuming mid-file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvHeader, csvRecords, ndjsonRecords, rawOf, type SourceRecord } from './records';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-import-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function all(chunks: AsyncIterable<SourceRecord[]>): Promise<SourceRecord[]> {
  const found: SourceRecord[] = [];
  for await (const records of chunks) found.push(...records);
  return found;
}

const rowOf = (record: SourceRecord) =>
  record.columns
    ? Object.fromEntries(record.columns.map((column, index) => [column, record.values?.[index]]))
    : undefined;

async function csv(file: string) {
  const header = await csvHeader(file);
  if ('problem' in header) throw new Error(header.problem);
  return { header, records: await all(csvRecords(file, header.columns, header.from)) };
}

const brokenCsv = [
  '\ufeffid,name,phone',
  '1,"Nguyễn, Văn An",0912 345 678',
  '',
  '2,"Trần Thị ""Bé"" Ba",+84 90 111 2222',
  '3,"unclosed,0900000003',
  '4,Lê Văn Bốn,0904 000 004',
  '5,"Phạm',
  'Năm",0905 000 005',
  '6,too,many,fields',
  '7,"stray"x,0907',
  '8,Võ Tám,0908 000 008',
].join('\r\n');

describe('csvRecords', () => {
  it('reads a BOM, CRLF, quoted commas, doubled quotes and line breaks inside quotes, skipping empty lines', async () => {
    const { header, records } = await csv(fileOf('good.csv', brokenCsv));
    expect(header.columns).toEqual(['id', 'name', 'phone']);
    const good = records.filter((record) => record.columns);
    expect(good.map((record) => [record.line, rowOf(record)])).toEqual([
      [2, { id: '1', name: 'Nguyễn, Văn An', phone: '0912 345 678' }],
      [4, { id: '2', name: 'Trần Thị "Bé" Ba', phone: '+84 90 111 2222' }],
      [6, { id: '4', name: 'Lê Văn Bốn', phone: '0904 000 004' }],
      [7, { id: '5', name: 'Phạm\r\nNăm', phone: '0905 000 005' }],
      [11, { id: '8', name: 'Võ Tám', phone: '0908 000 008' }],
    ]);
    expect(good.find((record) => record.line === 7)?.endLine).toBe(8);
  });

  it('turns an unclosed quote, a stray quote and a wrong field count into one problem each, on their own line', async () => {
    const file = fileOf('broken.csv', brokenCsv);
    const { records } = await csv(file);
    expect(
      records
        .filter((record) => record.problem)
        .map((record) => ({ line: record.line, raw: rawOf(file, record), problem: record.problem })),
    ).toEqual([
      { line: 5, raw: '3,"unclosed,0900000003', problem: expect.stringMatching(/quote/) },
      { line: 9, raw: '6,too,many,fields', problem: '4 fields where the header has 3' },
      { line: 10, raw: '7,"stray"x,0907', problem: expect.stringMatching(/quote/) },
    ]);
  });

  it('resumes after any record with the same lines and offsets as a reading from the start', async () => {
    const file = fileOf('resume.csv', brokenCsv);
    const { header, records } = await csv(file);
    for (const [index, record] of records.entries()) {
      const rest = await all(csvRecords(file, header.columns, { offset: record.endOffset, line: record.endLine }));
      expect(rest).toEqual(records.slice(index + 1));
    }
  });

  it('refuses an empty file for want of a header', async () => {
    expect(await csvHeader(fileOf('empty.csv', ''))).toEqual({ problem: expect.stringContaining('empty') });
  });

  it('keeps a quote left open at the end of a large file from swallowing the lines after it', async () => {
    const rows = Array.from(
      { length: 5000 },
      (_, index) => `${index},"Khách ${index}",09${String(index).padStart(8, '0')}`,
    );
    rows.splice(10, 0, '"never closed,x,y');
    const { records } = await csv(fileOf('large.csv', ['id,name,phone', ...rows].join('\n')));
    expect(records.filter((record) => record.columns)).toHaveLength(5000);
    expect(records.filter((record) => record.problem).map((record) => record.line)).toEqual([12]);
  });
});

describe('ndjsonRecords', () => {
  it('reads one object a line with its line number, and names a line that is not one', async () => {
    const file = fileOf('events.ndjson', '\ufeff{"userId":"u1","n":1}\n\n{"userId":"u2"\r\n[1,2]\n{"userId":"Đặng"}');
    const records = await all(ndjsonRecords(file, { offset: 0, line: 0 }));
    expect(records.map((record) => ({ line: record.line, row: rowOf(record), problem: record.problem }))).toEqual([
      { line: 1, row: { userId: 'u1', n: 1 }, problem: undefined },
      { line: 3, row: undefined, problem: expect.stringMatching(/^not JSON/) },
      { line: 4, row: undefined, problem: 'not a JSON object' },
      { line: 5, row: { userId: 'Đặng' }, problem: undefined },
    ]);
    const resumed = await all(ndjsonRecords(file, { offset: (records[1] as SourceRecord).endOffset, line: 3 }));
    expect(resumed).toEqual(records.slice(2));
  });
});
