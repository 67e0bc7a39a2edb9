import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from './clickhouse';
import { named } from './query-names';
import { tabSeparated, tabSeparatedLines, tabSeparatedText } from './tab-separated';

describe('tabSeparatedText', () => {
  it('escapes what TabSeparated reads specially and writes null as \\N', () => {
    expect(tabSeparatedText([['a\tb', 'c\nd', 'e\\f', null, 3, true, false]])).toBe(
      'a\\tb\tc\\nd\te\\\\f\t\\N\t3\t1\t0\n',
    );
  });
});

describe('tabSeparatedLines', () => {
  it('splits what tabSeparatedText wrote back into the fields as they were', () => {
    const rows = [
      ['a\tb', 'c\nd', 'e\\f', '', 'nul \0 bell \b\f\r'],
      ['Nguyễn', "it's", '\\N', 'x', 'y'],
    ];
    expect(tabSeparatedLines(tabSeparatedText(rows))).toEqual(rows);
    expect(tabSeparatedLines('')).toEqual([]);
  });
});

describe('tabSeparated into chDB', () => {
  const dir = path.join(os.tmpdir(), `cdp-tsv-${process.pid}`);
  let clickhouse: ClickHouse;
  beforeAll(async () => {
    clickhouse = await createClickHouse({ chdbPath: dir, database: 'tsv_test' } as never, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await clickhouse?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads back every value as written, JSON text and control characters included', async () => {
    const { client } = clickhouse;
    await client.command(
      named('test.createTable', {
        query: `CREATE TABLE tsv (id UInt32, text String, at Nullable(DateTime64(3, 'UTC')), flag Bool) ENGINE = Memory`,
      }),
    );
    const texts = [
      '{"name":"Nguyễn Văn A","note":"line one\\nline two","path":"C:\\\\temp"}',
      'tab\there, newline\nthere, return\r, backslash \\N, nul \0, bell \b\f',
      '',
      '\\',
      "it's",
    ];
    await client.insert(
      named('test.insert', {
        table: 'tsv',
        columns: ['id', 'text', 'at', 'flag'],
        format: 'TabSeparated',
        values: tabSeparated(
          texts.map((text, id) => [id, text, id % 2 ? null : '2024-01-02 03:04:05.678', id % 2 === 0]),
        ),
      }),
    );
    const result = await client.query(
      named('test.select', { query: 'SELECT id, text, at, flag FROM tsv ORDER BY id', format: 'JSONEachRow' }),
    );
    expect(await result.json()).toEqual(
      texts.map((text, id) => ({
        id,
        text,
        at: id % 2 ? null : '2024-01-02 03:04:05.678',
        flag: id % 2 === 0,
      })),
    );
    const text = await client.query(
      named('test.selectText', { query: 'SELECT id, text FROM tsv ORDER BY id', format: 'TabSeparated' }),
    );
    expect(tabSeparatedLines(await text.text())).toEqual(texts.map((text, id) => [String(id), text]));
  });
});
