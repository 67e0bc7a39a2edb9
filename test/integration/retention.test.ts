// Raw event retention: with CDP_EVENTS_RETENTION_DAYS, events and touchpoints older than the window go as ClickHouse
// merges, while the profile's aggregates keep what they counted; 0 removes the TTL again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, createLogger, named, waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

describe('raw event retention', () => {
  let cdp: TestPlatform;
  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', { CDP_EVENTS_RETENTION_DAYS: '30' }, ['ingest', 'resolver', 'query-api']);
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  const rowsOf = async (table: string, userId: string) => {
    const result = await cdp.platform.clickhouse.client.query(
      named('test.countRows', {
        query: `SELECT count() AS rows FROM ${table} WHERE message_id IN (SELECT message_id FROM events WHERE user_id = {userId:String}) OR message_id LIKE {prefix:String}`,
        query_params: { userId, prefix: `${userId}%` },
        format: 'JSONEachRow',
      }),
    );
    return Number((await result.json<{ rows: string }>())[0]?.rows);
  };
  const engineOf = async (table: string) => {
    const result = await cdp.platform.clickhouse.client.query(
      named('test.readTableEngine', {
        query: 'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {table:String}',
        query_params: { table },
        format: 'JSONEachRow',
      }),
    );
    return (await result.json<{ engine_full: string }>())[0]?.engine_full ?? '';
  };

  it("drops raw events past the window and keeps the profile's counts", async () => {
    expect(await engineOf('events')).toContain('TTL toDateTime(timestamp) + toIntervalDay(30)');
    const userId = uniqueName('kept-counts');
    const day = 86_400_000;
    const batch = [
      {
        type: 'track',
        userId,
        messageId: `${userId}-old`,
        event: 'Order Completed',
        properties: { revenue: 100 },
        timestamp: new Date(Date.now() - 60 * day).toISOString(),
      },
      {
        type: 'track',
        userId,
        messageId: `${userId}-new`,
        event: 'Order Completed',
        properties: { revenue: 50 },
        timestamp: new Date(Date.now() - day).toISOString(),
      },
    ];
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    await waitFor(
      async () =>
        (
          (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.stats as
            { events?: number } | undefined
        )?.events === 2,
      {
        timeoutMs: 30_000,
        what: 'both orders on the profile',
      },
    );
    for (const table of ['events', 'touchpoints']) {
      await cdp.platform.clickhouse.client.command(named('test.optimize', { query: `OPTIMIZE TABLE ${table} FINAL` }));
      expect(await rowsOf(table, userId), table).toBe(1);
    }
    const stats = (await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.stats as {
      events: number;
      orders: number;
      revenue: number;
    };
    expect(stats).toMatchObject({ events: 2, orders: 2, revenue: 150 });
  });

  it('removes the TTL when the retention goes back to 0, and changes nothing when it is already right', async () => {
    const logger = createLogger({ level: 'silent' });
    await applyRetention(cdp.platform.clickhouse.client, 0, logger);
    expect(await engineOf('events')).not.toContain('TTL');
    expect(await engineOf('touchpoints')).not.toContain('TTL');
    await applyRetention(cdp.platform.clickhouse.client, 7, logger);
    const set = await engineOf('events');
    await applyRetention(cdp.platform.clickhouse.client, 7, logger);
    expect(await engineOf('events')).toBe(set);
    expect(set).toContain('toIntervalDay(7)');
  });
});
