// Which ClickHouse failures are the store's (retried until it answers again) and which are the question's, with the
// errors a real chDB raises. (A full disk, NOT_ENOUGH_SPACE, is the fault suite's: `pnpm test:faults disk`.)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClickHouse,
  fromClickHouseTime,
  isStoreUnavailable,
  runningCallName,
  toClickHouseTime,
  type ClickHouse,
} from './clickhouse';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { named } from './query-names';

const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-chdb-'));
let clickhouse: ClickHouse;

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the query to fail');
    },
    (error: unknown) => error,
  );

describe('isStoreUnavailable', () => {
  beforeAll(async () => {
    clickhouse = await createClickHouse(
      { url: null, database: 'unavailable', chdbPath, requireNames: true },
      createLogger({ level: 'silent' }),
    );
    await clickhouse.client.command(
      named('test.create', { query: 'CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a' }),
    );
  });
  afterAll(async () => {
    await clickhouse.close();
    rmSync(chdbPath, { recursive: true, force: true });
  });

  it('counts a store that refuses writes for now (too many parts) as unavailable', async () => {
    // A table that takes one part only: the second insert is refused as a server under too many inserts refuses it.
    await clickhouse.client.command(
      named('test.createStrict', {
        query:
          'CREATE TABLE IF NOT EXISTS strict (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS parts_to_throw_insert = 1',
      }),
    );
    await clickhouse.client.command(named('test.insertFirst', { query: 'INSERT INTO strict VALUES (1)' }));
    const error = await failure(
      clickhouse.client.command(named('test.insertSecond', { query: 'INSERT INTO strict VALUES (2)' })),
    );
    expect(String(error)).toMatch(/Too many parts/);
    expect((error as { code?: string }).code).toBe('252');
    expect(isStoreUnavailable(error)).toBe(true);
    expect(isStoreUnavailable(new Error('wrapped', { cause: error }))).toBe(true);
  });

  it('counts a wrong question as the caller’s, not the store’s', async () => {
    const error = await failure(
      clickhouse.client.command(named('test.insertWrong', { query: "INSERT INTO t VALUES ('not a number')" })),
    );
    expect(isStoreUnavailable(error)).toBe(false);
    expect(
      isStoreUnavailable(await failure(clickhouse.client.query(named('test.unknown', { query: 'SELECT nope' })))),
    ).toBe(false);
  });
});

describe('chDB connections', () => {
  // A query that keeps one connection busy for a while (hashing numbers), and a short one sent just after it.
  const long = named('test.long', {
    query: 'SELECT max(sipHash64(number)) AS m FROM numbers(60000000)',
    format: 'JSONEachRow',
  });
  const short = named('test.short', { query: 'SELECT count() AS n FROM t', format: 'JSONEachRow' });
  // The same with query parameters, which chDB itself would run one at a time in the whole process.
  const longWithParams = named('test.longWithParams', {
    query: 'SELECT max(sipHash64(number)) AS m FROM numbers({rows:UInt64}) WHERE toString(number) != {skip:String}',
    query_params: { rows: 60_000_000, skip: 'none' },
    format: 'JSONEachRow',
  });
  const shortWithParams = named('test.shortWithParams', {
    query: 'SELECT count() AS n FROM t WHERE a IN {values:Array(UInt8)}',
    query_params: { values: [1, 2] },
    format: 'JSONEachRow',
  });

  async function order(connections: number, queries = { long, short }): Promise<string[]> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-pool-'));
    const store = await createClickHouse(
      { url: null, database: 'pool', chdbPath: dir, chdbConnections: connections, requireNames: true },
      createLogger({ level: 'silent' }),
    );
    try {
      await store.client.command(
        named('test.create', { query: 'CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a' }),
      );
      const finished: string[] = [];
      const running = store.client.query(queries.long).then(async (result) => {
        await result.json();
        finished.push('long');
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Every connection knows the database: the table is found unqualified on whichever takes the call.
      const shorts = [1, 2, 3].map(async () => {
        expect(await (await store.client.query(queries.short)).json()).toEqual([{ n: 0 }]);
        finished.push('short');
      });
      await Promise.all([running, ...shorts]);
      return finished;
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('answer a short read while a long query runs, on connections side by side; one connection takes them in turn', async () => {
    expect(await order(4)).toEqual(['short', 'short', 'short', 'long']);
    // Fewer connections than calls: the shorts wait for the connection that comes free first, not behind the long one.
    expect(await order(2)).toEqual(['short', 'short', 'short', 'long']);
    expect(await order(1)).toEqual(['long', 'short', 'short', 'short']);
    expect(await order(4, { long: longWithParams, short: shortWithParams })).toEqual([
      'short',
      'short',
      'short',
      'long',
    ]);
  });

  it('keep a call’s own settings to that call: the connection’s next call has the client’s, or the defaults', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-settings-'));
    const store = await createClickHouse(
      { url: null, database: 'settings', chdbPath: dir, chdbConnections: 1, requireNames: true },
      createLogger({ level: 'silent' }),
    );
    const read = async (settings?: Record<string, number | string>) =>
      (
        await (
          await store.client.query(
            named('test.settings', {
              query: `SELECT getSetting('optimize_on_insert') AS optimize, getSetting('max_threads') AS threads,
                getSetting('date_time_input_format') AS input`,
              format: 'JSONEachRow',
              ...(settings ? { clickhouse_settings: settings } : {}),
            }),
          )
        ).json<{ optimize: boolean; threads: number; input: string }>()
      )[0];
    try {
      const before = await read();
      expect(before).toMatchObject({ optimize: true, input: 'best_effort' });
      // One connection: every call below runs on it, one after another.
      expect(await read({ optimize_on_insert: 0, max_threads: 1, date_time_input_format: 'basic' })).toEqual({
        optimize: false,
        threads: 1,
        input: 'basic',
      });
      expect(await read()).toEqual(before);
      await store.client.command(
        named('test.settingsCommand', { query: 'SELECT 1', clickhouse_settings: { optimize_on_insert: 0 } }),
      );
      expect(await read()).toEqual(before);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('write parameters into the query as the literals of their types, exactly', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-params-'));
    const store = await createClickHouse(
      { url: null, database: 'params', chdbPath: dir, requireNames: true },
      createLogger({ level: 'silent' }),
    );
    try {
      const text = "it's a \\ back\\slash, a {brace:String}, a tab\t, a NUL \0 and Tiếng Việt";
      const result = await store.client.query(
        named('test.literals', {
          query: `SELECT {text:String} AS text, {texts:Array(String)} AS texts, {none:Array(String)} AS none,
            toString({at:DateTime64(3, 'UTC')}) AS at, toString({iso:DateTime64(3, 'UTC')}) AS iso,
            {big:UInt64} AS big, {negative:Int64} AS negative, {ratio:Float64} AS ratio, {ids:Array(UInt32)} AS ids,
            toTypeName({texts:Array(String)}) AS type`,
          query_params: {
            text,
            texts: [text, ''],
            none: [],
            at: '2026-06-01 09:00:00.123',
            iso: '2026-06-01T09:00:00.123Z',
            big: 18_000_000_000,
            negative: -7,
            ratio: 0.25,
            ids: [3, 1],
          },
          format: 'JSONEachRow',
        }),
      );
      expect(await result.json()).toEqual([
        {
          text,
          texts: [text, ''],
          none: [],
          at: '2026-06-01 09:00:00.123',
          iso: '2026-06-01 09:00:00.123',
          big: 18_000_000_000,
          negative: -7,
          ratio: 0.25,
          ids: [3, 1],
          type: 'Array(String)',
        },
      ]);
      // A value that is not of its type is refused before it reaches the store, naming the parameter.
      await expect(
        store.client.query(
          named('test.badParam', { query: 'SELECT {n:UInt64} AS n', query_params: { n: '1; DROP TABLE t' } }),
        ),
      ).rejects.toThrow(/query parameter n/);
      await expect(
        store.client.query(named('test.missingParam', { query: 'SELECT {n:UInt64} AS n', query_params: { m: 1 } })),
      ).rejects.toThrow(/query parameter n is not set/);
      for (const [type, value] of [
        ['UInt32', 1.5],
        ['UInt32', '1e3'],
        ['UInt64', -1],
        ['Tuple(String)', ['a']],
      ] as const)
        await expect(
          store.client.query(named('test.wrongType', { query: `SELECT {v:${type}} AS v`, query_params: { v: value } })),
        ).rejects.toThrow(/query parameter v/);
      // A list long past ClickHouse's default query size (256 KiB) once written in: about 1 MB of ids.
      const ids = Array.from({ length: 30_000 }, (_, index) => `customer_${index}_${'x'.repeat(20)}`);
      const counted = await store.client.query(
        named('test.longList', {
          query: 'SELECT length({ids:Array(String)}) AS n, has({ids:Array(String)}, {last:String}) AS found',
          query_params: { ids, last: ids.at(-1)! },
          format: 'JSONEachRow',
        }),
      );
      expect(await counted.json()).toEqual([{ n: 30_000, found: 1 }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('store memory', () => {
  it('is reported on /metrics from the store itself: what it tracks, its caches and its allocator', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-memory-'));
    const metrics = createMetrics();
    const store = await createClickHouse(
      { url: null, database: 'memory', chdbPath: dir, requireNames: true },
      createLogger({ level: 'silent' }),
      metrics,
    );
    try {
      const text = await metrics.registry.metrics();
      const tracked = /^cdp_clickhouse_memory_bytes\{metric="MemoryTracking"\} (\d+)/m.exec(text);
      expect(Number(tracked?.[1])).toBeGreaterThan(0);
      expect(text).toMatch(/^cdp_clickhouse_memory_bytes\{metric="MarkCacheBytes"\} \d+/m);
      // chDB's allocator is jemalloc: allocated ≤ active ≤ resident, active ≤ mapped; metadata and retained present.
      const allocator = (measure: string) =>
        Number(new RegExp(`^cdp_clickhouse_allocator_bytes\\{measure="${measure}"\\} (\\S+)`, 'm').exec(text)?.[1]);
      expect(allocator('allocated')).toBeGreaterThan(0);
      expect(allocator('active')).toBeGreaterThanOrEqual(allocator('allocated'));
      expect(allocator('resident')).toBeGreaterThanOrEqual(allocator('active'));
      expect(allocator('mapped')).toBeGreaterThanOrEqual(allocator('active'));
      expect(allocator('metadata')).toBeGreaterThan(0);
      expect(allocator('retained')).toBeGreaterThanOrEqual(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a running call by the comment its SQL begins with, an insert by its table', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-names-'));
    const store = await createClickHouse(
      { url: null, database: 'names', chdbPath: dir, requireNames: true, chdbConnections: 1 },
      createLogger({ level: 'silent' }),
    );
    try {
      const queries = [
        '/* segments.buildPass */ INSERT INTO segment_profiles SELECT 1',
        'INSERT INTO events (a, b) FORMAT JSONEachRow',
        'SELECT 1 /* segments.buildPass */',
        '/* not a name */ SELECT 1',
      ];
      const result = await store.client.query(
        named('test.nameRunningCalls', {
          query: `SELECT ${runningCallName} AS name FROM (SELECT arrayJoin({queries:Array(String)}) AS query)`,
          query_params: { queries },
          format: 'JSONEachRow',
        }),
      );
      expect((await result.json<{ name: string }>()).map((row) => row.name)).toEqual([
        'segments.buildPass',
        'insert into events',
        'unnamed',
        'unnamed',
      ]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is reported by the name of the calls running when scraped, and not once they are over', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-running-'));
    const metrics = createMetrics();
    const store = await createClickHouse(
      { url: null, database: 'running', chdbPath: dir, requireNames: true, chdbConnections: 3 },
      createLogger({ level: 'silent' }),
      metrics,
    );
    const heldBy = async (name: string) =>
      new RegExp(`^cdp_clickhouse_running_memory_bytes\\{query="${name}"\\} (\\d+)`, 'm').exec(
        await metrics.registry.metrics(),
      );
    /** Scrapes until `name` is seen holding at least `bytes` (tries for a second), and gives its last reading. */
    const seen = async (name: string, bytes: number) => {
      let held: RegExpExecArray | null = null;
      for (let tries = 0; tries < 40 && !(Number(held?.[1]) >= bytes); tries += 1) {
        held = await heldBy(name);
        if (!(Number(held?.[1]) >= bytes)) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return held === null ? null : Number(held[1]);
    };
    try {
      // A second of sleep over a thousand rows kept in an array: running, and holding memory, while scraped (by the
      // two store gauges at once, each on a connection of its own: three connections).
      const running = store.client.query(
        named('test.holdMemory', {
          query: 'SELECT length(groupArray(number)) AS kept, sum(sleepEachRow(0.001)) AS slept FROM numbers(1000)',
          format: 'JSONEachRow',
        }),
      );
      expect(await seen('test.holdMemory', 1)).toBeGreaterThan(0);
      expect(await (await running).json()).toEqual([{ kept: 1000, slept: 0 }]);
      expect(await heldBy('test.holdMemory')).toBeNull();
      // An INSERT … SELECT whose text begins on a new line, as most of the platform's do, by its name too (the store
      // accounts an insert's memory once it is over).
      await store.client.command(
        named('test.createKept', { query: 'CREATE TABLE kept (n UInt64) ENGINE = MergeTree ORDER BY n' }),
      );
      const inserting = store.client.command(
        named('test.insertKept', {
          query: `
            INSERT INTO kept
            SELECT number FROM numbers(1000) WHERE NOT sleepEachRow(0.001)`,
        }),
      );
      expect(await seen('test.insertKept', 0)).toBeGreaterThanOrEqual(0);
      await inserting;
      // The scrape's own read is running when it looks, so the metric always has a series.
      expect(await metrics.registry.metrics()).toMatch(
        /^cdp_clickhouse_running_memory_bytes\{query="clickhouse\.readRunningMemory"\} \d+/m,
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the store', () => {
  it('gives every read of one query the same snapshot of a table (chDB by default, a server as the client asks)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-clickhouse-snapshot-'));
    const store = await createClickHouse(
      { url: process.env.CLICKHOUSE_URL ?? null, database: 'default', chdbPath: dir, requireNames: true },
      createLogger({ level: 'silent' }),
    );
    try {
      const result = await store.client.query(
        named('test.readSetting', {
          query: "SELECT value FROM system.settings WHERE name = 'enable_shared_storage_snapshot_in_query'",
          format: 'JSONEachRow',
        }),
      );
      expect(await result.json<{ value: string }>()).toEqual([{ value: '1' }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('toClickHouseTime', () => {
  // The plain form it must equal: the ISO text with a space for the T and no Z.
  const reference = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');

  it('writes every instant of the storable years as the ISO text does, in runs within one second and apart', () => {
    const from = Date.UTC(1900, 0, 1);
    const until = Date.UTC(2300, 0, 1);
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const instants = [from, until - 1, -1, 0, 1, 999, 1000, -1000, -1001, Date.UTC(2000, 1, 29, 23, 59, 59, 999)];
    for (let index = 0; index < 20_000; index += 1) {
      const instant = Math.floor(from + random() * (until - from));
      // The next few milliseconds too, so a second's text is reused and then left.
      instants.push(instant, instant + 1, instant + 7, instant + 999);
    }
    for (const instant of instants) expect(toClickHouseTime(instant), String(instant)).toBe(reference(instant));
    expect(toClickHouseTime(1_700_000_000_123.9)).toBe(reference(1_700_000_000_123.9));
    expect(fromClickHouseTime(toClickHouseTime(-2_208_988_799_877))).toBe(-2_208_988_799_877);
  });

  it('refuses what is not a time, as the ISO text does', () => {
    expect(() => toClickHouseTime(Number.NaN)).toThrow(RangeError);
    expect(() => toClickHouseTime(8.64e15 + 1000)).toThrow(RangeError);
  });
});
