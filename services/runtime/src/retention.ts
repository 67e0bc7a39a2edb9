// How long raw events are kept: a TTL on the per-message tables, set (or removed) at start from the configuration.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { named } from './query-names';

/** The tables holding one row per message, with the time column their TTL counts from. Aggregates are kept. */
export const rawEventTables = [
  { table: 'events', time: 'timestamp' },
  { table: 'touchpoints', time: 'timestamp' },
] as const;

const ttlOf = (time: string, days: number) => `toDateTime(${time}) + toIntervalDay(${days})`;

/**
 * Makes each raw table expire rows `days` after their event time (0: never), changing only tables whose TTL differs.
 * ClickHouse drops expired rows as it merges parts; existing parts are rewritten in the background once.
 */
export async function applyRetention(client: ClickHouseClient, days: number, logger: Logger): Promise<void> {
  for (const { table, time } of rawEventTables) {
    const result = await client.query(
      named('retention.readTableEngine', {
        query: 'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {table:String}',
        query_params: { table },
        format: 'JSONEachRow',
      }),
    );
    const engine = (await result.json<{ engine_full: string }>())[0]?.engine_full ?? '';
    const current = /\bTTL (.+?)(?: SETTINGS |$)/.exec(engine)?.[1]?.trim() ?? null;
    if (days === 0) {
      if (current === null) continue;
      await client.command(named('retention.removeTtl', { query: `ALTER TABLE ${table} REMOVE TTL` }));
      logger.info({ table }, 'raw event retention removed: rows are kept for ever');
    } else if (current?.replaceAll(' ', '') !== ttlOf(time, days).replaceAll(' ', '')) {
      await client.command(
        named('retention.modifyTtl', { query: `ALTER TABLE ${table} MODIFY TTL ${ttlOf(time, days)}` }),
      );
      logger.info({ table, days }, 'raw event retention set');
    }
  }
}
