// Query limits against real chDB (or CLICKHOUSE_URL): a query past its time or memory limit rejects with a clear
// AppError, and the limits stay on the limited client's queries, never on the session other callers share.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from './clickhouse';
import { AppError } from './errors';
import { createLogger } from './logger';
import { limitQueries } from './query-limits';
import { named } from './query-names';

const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-query-limits-chdb-'));
let clickhouse: ClickHouse;

beforeAll(async () => {
  clickhouse = await createClickHouse(
    {
      url: process.env.CLICKHOUSE_URL ?? null,
      database: `query_limits_${randomUUID().replaceAll('-', '')}`,
      chdbPath,
      requireNames: true,
    },
    createLogger({ level: 'silent' }),
  );
});
afterAll(async () => {
  await clickhouse?.close();
  rmSync(chdbPath, { recursive: true, force: true });
});

const setting = async (name: string): Promise<string> => {
  const result = await clickhouse.client.query(
    named('test.setting', { query: `SELECT toString(getSetting('${name}')) AS value`, format: 'JSONEachRow' }),
  );
  return ((await result.json<{ value: string }>())[0] as { value: string }).value;
};

/** Runs `query` through a client limited to `limits` (no concurrency limit: that is the HTTP layer's). */
async function limitedQuery(
  limits: { timeoutSeconds: number; maxMemoryBytes: number; spillBytes?: number },
  narrow: string,
  query: string,
  queryParams: Record<string, unknown> = {},
): Promise<unknown> {
  const limited = limitQueries(clickhouse.client, { ...limits, concurrencyPerKey: 0 }, narrow);
  const result = await limited.query(
    named('test.limited', { query, query_params: queryParams, format: 'JSONEachRow' }),
  );
  return result.json();
}

describe('query limits', () => {
  it('stops a query past its time limit with QUERY_TIMEOUT, and leaves the shared session unlimited', async () => {
    const error = await limitedQuery(
      { timeoutSeconds: 1, maxMemoryBytes: 0 },
      'a shorter range',
      'SELECT count() AS n FROM numbers(100000000000) WHERE sipHash64(number) % 7 = 3',
    ).then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'QUERY_TIMEOUT', status: 503 });
    expect((error as AppError).message).toMatch(/past its 1 s limit.*narrow it \(a shorter range\)/);
    expect(await setting('max_execution_time')).toBe('0');
  });

  it('stops a query past its memory limit with QUERY_TOO_LARGE', async () => {
    await expect(
      limitedQuery(
        { timeoutSeconds: 0, maxMemoryBytes: 10 * 1024 * 1024 },
        'fewer conditions',
        'SELECT groupArray(number) FROM numbers(100000000)',
      ),
    ).rejects.toMatchObject({ code: 'QUERY_TOO_LARGE', status: 422, message: expect.stringMatching(/10 MB/) });
    expect(await setting('max_memory_usage')).toBe('0');
  });

  it('answers a GROUP BY larger than its memory limit by continuing on disk past the spill size', async () => {
    // Three million groups of a UInt64 and a count need well over 64 MB in memory at once.
    const groups = 'SELECT count() AS n FROM (SELECT number % 3000000 AS k, count() FROM numbers(6000000) GROUP BY k)';
    const memory = { timeoutSeconds: 0, maxMemoryBytes: 64 * 1024 * 1024 };
    await expect(limitedQuery(memory, 'a shorter range', groups)).rejects.toMatchObject({ code: 'QUERY_TOO_LARGE' });
    expect(await limitedQuery({ ...memory, spillBytes: 16 * 1024 * 1024 }, 'a shorter range', groups)).toEqual([
      { n: 3000000 },
    ]);
    expect(await setting('max_bytes_before_external_group_by')).toBe('0');
  });

  it('runs a query within its limits as before, parameters and all', async () => {
    const rows = await limitedQuery(
      { timeoutSeconds: 5, maxMemoryBytes: 100 * 1024 * 1024 },
      'anything',
      'SELECT count() AS n FROM numbers(10) WHERE number >= {from:UInt32}',
      { from: 4 },
    );
    expect(rows).toEqual([{ n: 6 }]);
  });
});
