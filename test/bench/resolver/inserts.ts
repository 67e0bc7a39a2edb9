// Child part: one resolver batch of `events` rows inserted into chDB (every view on `events` live) as TabSeparated, the
// format the resolver writes, and as JSONEachRow, the one it wrote before; the two alternate, on the same rows. Then
// what the views add: TabSeparated inserts with every view, with none, and with each view alone, of one batch and of
// four.
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
  /** Medians of TabSeparated inserts of `rows` events: with every view, with none, and with each view alone. */
  views: { everyMs: number; noneMs: number; alone: Record<string, number> };
  /** The same with `largeRows` events, every view and none. */
  largeRows: number;
  large: { everyMs: number; noneMs: number };
}

const rows = 5000;
const rounds = Number(process.env.BENCH_INSERT_ROUNDS ?? 8);
const largeRows = rows * 4;
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
  const insertTabSeparated = (values: ReturnType<typeof batch>) =>
    clickhouse.client.insert(
      named('bench.insertTabSeparated', {
        table: 'events',
        columns: [...eventColumns],
        format: 'TabSeparated',
        values: tabSeparated(values),
      }),
    );
  const tsv: number[] = [];
  const json: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const first = batch(round * 2);
    const second = batch(round * 2 + 1);
    tsv.push(await timed(() => insertTabSeparated(first)));
    json.push(
      await timed(() =>
        clickhouse.client.insert(
          named('bench.insertJsonEachRow', { table: 'events', format: 'JSONEachRow', values: asObjects(second) }),
        ),
      ),
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

  // The views on events, as the store lists them, and their definitions, to drop and create again.
  const listed = await clickhouse.client.query(
    named('bench.viewsOfEvents', {
      query: `SELECT name, create_table_query AS definition FROM system.tables
        WHERE database = currentDatabase() AND name IN (SELECT arrayJoin(dependencies_table) FROM system.tables WHERE database = currentDatabase() AND name = 'events')
        ORDER BY name`,
      format: 'JSONEachRow',
    }),
  );
  const views = await listed.json<{ name: string; definition: string }>();
  const only = async (kept: Set<string>) => {
    for (const view of views) {
      await clickhouse.client.command(named('bench.dropView', { query: `DROP VIEW IF EXISTS ${view.name}` }));
      if (kept.has(view.name)) await clickhouse.client.command(named('bench.createView', { query: view.definition }));
    }
  };
  const fresh = customerMessages((views.length + 2) * rounds * rows + 2 * rounds * largeRows, 'views');
  let at = 0;
  const insertFresh = async (count: number) => {
    const values = fresh
      .slice(at, at + count)
      .map((message, row) => eventValues(toEventRecord(message, now), `prf_${(at + row) % 20_000}`));
    at += count;
    return timed(() => insertTabSeparated(values));
  };
  const medianOf = async (count: number) => {
    const times: number[] = [];
    for (let round = 0; round < rounds; round += 1) times.push(await insertFresh(count));
    return median(times);
  };
  const every = new Set(views.map((view) => view.name));
  const everyMs = await medianOf(rows);
  const largeEveryMs = await medianOf(largeRows);
  await only(new Set());
  const noneMs = await medianOf(rows);
  const largeNoneMs = await medianOf(largeRows);
  const alone: Record<string, number> = {};
  for (const view of views) {
    await only(new Set([view.name]));
    alone[view.name] = await medianOf(rows);
  }
  await only(every);
  report({
    rows,
    rounds,
    tabSeparatedMs: median(tsv),
    jsonEachRowMs: median(json),
    views: { everyMs, noneMs, alone },
    largeRows,
    large: { everyMs: largeEveryMs, noneMs: largeNoneMs },
  } satisfies InsertsResult);
} finally {
  await clickhouse.close();
  rmSync(dir, { recursive: true, force: true });
}
