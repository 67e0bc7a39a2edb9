// Child part: one resolver batch of `events` rows inserted into chDB (every view on `events` live) as TabSeparated, the
// format the resolver writes, and as JSONEachRow, the one it wrote before; the two alternate, on the same rows.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { eventColumns, eventValues } from '@cdp/resolver';
import { createClickHouse, migrate, named, tabSeparated } from '@cdp/runtime';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import { report } from './child';
import { customerMessages, toEventRecord } from './events';

export interface InsertsResult {
  rows: number;
  rounds: number;
  tabSeparatedMs: number;
  jsonEachRowMs: number;
}

const rows = 5000;
const rounds = Number(process.env.BENCH_INSERT_ROUNDS ?? 8);
const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-inserts-'));
const logger = pino({ level: 'warn' });
const clickhouse = await createClickHouse({ chdbPath: dir, database: 'bench' } as never, logger);
try {
  await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
  const now = Date.now();
  const messages = customerMessages(rows * rounds * 2, 'ins');
  // Profiles spread as a customer base spreads them: the views aggregate per profile.
  const batch = (index: number) =>
    messages
      .slice(index * rows, (index + 1) * rows)
      .map((message, row) => eventValues(toEventRecord(message, now), `prf_${(index * rows + row) % 20_000}`));
  const asObjects = (values: ReturnType<typeof batch>) =>
    values.map((row) => Object.fromEntries(eventColumns.map((column, at) => [column, row[at]])));
  const timed = async (insert: () => Promise<unknown>) => {
    const started = performance.now();
    await insert();
    return performance.now() - started;
  };
  const tsv: number[] = [];
  const json: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const first = batch(round * 2);
    const second = batch(round * 2 + 1);
    tsv.push(
      await timed(() =>
        clickhouse.client.insert(
          named('bench.insertTabSeparated', {
            table: 'events',
            columns: [...eventColumns],
            format: 'TabSeparated',
            values: tabSeparated(first),
          }),
        ),
      ),
    );
    json.push(
      await timed(() =>
        clickhouse.client.insert(
          named('bench.insertJsonEachRow', { table: 'events', format: 'JSONEachRow', values: asObjects(second) }),
        ),
      ),
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  report({ rows, rounds, tabSeparatedMs: median(tsv), jsonEachRowMs: median(json) } satisfies InsertsResult);
} finally {
  await clickhouse.close();
  rmSync(dir, { recursive: true, force: true });
}
