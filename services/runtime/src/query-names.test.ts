// Named ClickHouse calls against real chDB (or CLICKHOUSE_URL): the name reaches log_comment, query_id, the histogram and the slow-call log.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Histogram } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from './clickhouse';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { named, UnnamedQueryError } from './query-names';

// chDB allows one on-disk data path per process: every test shares it and gets a database of its own.
const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-query-names-chdb-'));
const clickhouses: ClickHouse[] = [];

afterAll(async () => {
  for (const clickhouse of clickhouses.splice(0)) await clickhouse.close();
  rmSync(chdbPath, { recursive: true, force: true });
});

interface Opened {
  clickhouse: ClickHouse;
  metrics: Metrics;
  /** The log lines written at warn level or above, parsed. */
  warnings: Array<Record<string, unknown>>;
}

async function open(options: { requireNames: boolean; slowQueryMs?: number }): Promise<Opened> {
  const warnings: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const metrics = createMetrics();
  const database = `query_names_${randomUUID().replaceAll('-', '')}`;
  const clickhouse = await createClickHouse(
    {
      url: process.env.CLICKHOUSE_URL ?? null,
      database,
      chdbPath,
      slowQueryMs: options.slowQueryMs ?? 60_000,
      requireNames: options.requireNames,
    },
    logger,
    metrics,
  );
  clickhouses.push(clickhouse);
  return { clickhouse, metrics, warnings };
}

/** How many calls the histogram holds under each query name. */
async function countsOf(metrics: Metrics): Promise<Record<string, number>> {
  const histogram = metrics.registry.getSingleMetric('cdp_clickhouse_query_seconds') as Histogram | undefined;
  const values = (await histogram?.get())?.values ?? [];
  return Object.fromEntries(
    values
      .filter((sample) => sample.metricName === 'cdp_clickhouse_query_seconds_count')
      .map((sample) => [String(sample.labels.query), sample.value]),
  );
}

describe('named ClickHouse calls', () => {
  it('time a named query under its name, and give it a query id starting with the name', async () => {
    const { clickhouse, metrics } = await open({ requireNames: true });
    const result = await clickhouse.client.query(
      named('test.readComment', { query: "SELECT getSetting('log_comment') AS comment", format: 'JSONEachRow' }),
    );
    expect(result.query_id).toMatch(/^test\.readComment:[0-9a-f-]{36}$/);
    // The engine runs the query with the name as its log_comment.
    expect(await result.json<{ comment: string }>()).toEqual([{ comment: 'test.readComment' }]);
    const counts = await countsOf(metrics);
    expect(counts['test.readComment']).toBe(1);
    expect(counts.unnamed).toBeUndefined();
  });

  it('name commands and inserts, and count a streamed query once, when its stream ends', async () => {
    const { clickhouse, metrics } = await open({ requireNames: true });
    const { client } = clickhouse;
    const created = await client.command(
      named('test.createTable', { query: 'CREATE TABLE numbers (n UInt32) ENGINE = MergeTree ORDER BY n' }),
    );
    expect(created.query_id.startsWith('test.createTable:')).toBe(true);
    const inserted = await client.insert(
      named('test.insertNumbers', { table: 'numbers', values: [{ n: 1 }, { n: 2 }, { n: 3 }], format: 'JSONEachRow' }),
    );
    expect(inserted.query_id.startsWith('test.insertNumbers:')).toBe(true);

    const streamed = await client.query(
      named('test.streamNumbers', { query: 'SELECT n FROM numbers ORDER BY n', format: 'JSONEachRow' }),
    );
    expect((await countsOf(metrics))['test.streamNumbers']).toBeUndefined();
    const numbers: number[] = [];
    for await (const rows of streamed.stream<{ n: number }>()) for (const row of rows) numbers.push(row.json().n);
    expect(numbers).toEqual([1, 2, 3]);
    // json() reads through stream(): still one call.
    const read = await client.query(
      named('test.readNumbers', { query: 'SELECT n FROM numbers ORDER BY n', format: 'JSONEachRow' }),
    );
    expect(await read.json()).toHaveLength(3);
    expect(await countsOf(metrics)).toMatchObject({
      'test.createTable': 1,
      'test.insertNumbers': 1,
      'test.streamNumbers': 1,
      'test.readNumbers': 1,
    });
  });

  it('refuse a call without a name, or with a name not shaped <module>.<what>, when names are required', async () => {
    const { clickhouse, metrics } = await open({ requireNames: true });
    const { client } = clickhouse;
    await expect(client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toThrow(UnnamedQueryError);
    await expect(client.command({ query: 'SELECT 1' })).rejects.toMatchObject({
      code: 'UNNAMED_QUERY',
      message: expect.stringContaining('SELECT 1'),
    });
    await expect(client.insert({ table: 'numbers', values: [{ n: 1 }], format: 'JSONEachRow' })).rejects.toMatchObject({
      code: 'UNNAMED_QUERY',
    });
    await expect(client.exec({ query: 'SELECT 1' })).rejects.toMatchObject({ code: 'UNNAMED_QUERY' });
    await expect(client.query(named('readNumbers', { query: 'SELECT 1' }))).rejects.toMatchObject({
      code: 'UNNAMED_QUERY',
    });
    await expect(client.query(named('test.read numbers', { query: 'SELECT 1' }))).rejects.toMatchObject({
      code: 'UNNAMED_QUERY',
    });
    // USE once on each of chDB's connections (8 unless configured).
    expect(await countsOf(metrics)).toEqual({ 'clickhouse.createDatabase': 1, 'clickhouse.useDatabase': 8 });
  });

  it('run a call without a name as `unnamed` when names are not required, not under the previous call’s name', async () => {
    const { clickhouse, metrics } = await open({ requireNames: false });
    const { client } = clickhouse;
    await (await client.query(named('test.first', { query: 'SELECT 1', format: 'JSONEachRow' }))).json();
    const result = await client.query({ query: "SELECT getSetting('log_comment') AS comment", format: 'JSONEachRow' });
    expect(result.query_id.startsWith('unnamed:')).toBe(true);
    expect(await result.json()).toEqual([{ comment: 'unnamed' }]);
    await client.command({ query: 'SELECT 1' });
    expect(await countsOf(metrics)).toMatchObject({ 'test.first': 1, unnamed: 2 });
  });

  it('log a warning naming a call slower than the threshold', async () => {
    const { clickhouse, warnings } = await open({ requireNames: true, slowQueryMs: 50 });
    const result = await clickhouse.client.query(
      named('test.sleep', { query: 'SELECT sleep(0.1) AS slept', format: 'JSONEachRow' }),
    );
    await result.json();
    const slow = warnings.filter((line) => line.msg === 'slow ClickHouse query');
    expect(slow).toEqual([
      expect.objectContaining({ level: 40, component: 'clickhouse', query: 'test.sleep', queryId: result.query_id }),
    ]);
    expect(slow[0]?.ms).toBeGreaterThanOrEqual(100);
  });

  it('leave the name in system.query_log on a server (chDB keeps no query log)', async () => {
    const { clickhouse } = await open({ requireNames: true });
    const { client } = clickhouse;
    const tables = await client.query(
      named('test.listSystemTables', {
        query: "SELECT name FROM system.tables WHERE database = 'system' AND name = 'query_log'",
        format: 'JSONEachRow',
      }),
    );
    const hasQueryLog = (await tables.json()).length > 0;
    expect(hasQueryLog).toBe(clickhouse.kind === 'server');
    if (!hasQueryLog) return;
    const marked = await client.query(named('test.markedQuery', { query: 'SELECT 1', format: 'JSONEachRow' }));
    await marked.json();
    await client.command(named('test.flushLogs', { query: 'SYSTEM FLUSH LOGS' }));
    const logged = await client.query(
      named('test.readQueryLog', {
        query: "SELECT log_comment FROM system.query_log WHERE query_id = {queryId:String} AND type = 'QueryFinish'",
        query_params: { queryId: marked.query_id },
        format: 'JSONEachRow',
      }),
    );
    expect(await logged.json()).toEqual([{ log_comment: 'test.markedQuery' }]);
  });
});
