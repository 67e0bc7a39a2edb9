// Fills a fresh store with a year of synthetic events generated inside ClickHouse, in chunks, plus merged profiles.
import { messagesPerSurvivor } from '@cdp/profiles';
import { named, type ClickHouseClient } from '@cdp/runtime';

export interface LoadSize {
  events: number;
  profiles: number;
}

export interface LoadResult {
  seconds: number;
  storedRows: number;
  distinctMessages: number;
  profiles: number;
  merges: number;
  purchases: number;
  diskMb: number;
}

/** The data covers 2025 (UTC); the benchmark's windows sit in its last months. */
export const dataStartMs = Date.UTC(2025, 0, 1);
const yearMs = 365 * 86_400_000;
const chunkRows = 1_000_000;

// Every field of a row derives from its source number s by hashing, so a retry (n ≠ s: 1% of rows, copies of a
// message from an earlier chunk, stored a minute later) is the same message again. A profile's events cluster after
// its own start, thinning out over the year; ticket events share their ticket's customer and opening time (replies
// minutes later, resolutions hours later, on support channels).
const generateChunk = `
  INSERT INTO events (message_id, profile_id, type, event, name, user_id, anonymous_id, group_id, previous_id, timestamp,
    original_timestamp, sent_at, received_at, channel, source, properties, traits, context, inserted_at)
  SELECT
    concat('m', toString(s)), concat('p', toString(profile)), type, event, if(type = 'page', 'Product', ''),
    if(cityHash64(profile, 8) % 3 = 0, '', concat('u', toString(profile))), concat('a', toString(profile)), '', '',
    ts, ts, ts, received, channel, if(channel = 'app', 'ios', 'web'), properties, traits,
    concat('{"library":{"name":"analytics.js"},"ip":"10.0.', toString(roll % 256), '.1"}'),
    received + toIntervalMinute(if(n = s, 0, 1))
  FROM (
    SELECT
      number AS n,
      toUInt64(n - if(n % 100 = 99 AND n >= {retryDistance:UInt64}, {retryDistance:UInt64}, 0)) AS s,
      cityHash64(s, 1) % 1000 AS roll,
      multiIf(roll < 450, 'page', roll < 500, 'identify', 'track') AS type,
      multiIf(type != 'track', '', roll < 580, 'Order Completed', roll < 600, 'Ticket Opened', roll < 620, 'Ticket Replied',
        roll < 635, 'Ticket Resolved', roll < 655, 'Survey Responded', roll < 800, 'Product Viewed', roll < 900, 'Product Added', 'Email Opened') AS event,
      startsWith(event, 'Ticket') AS is_ticket_event,
      cityHash64(s, 2) % {tickets:UInt64} AS ticket,
      if(is_ticket_event, cityHash64(ticket, 3), cityHash64(s, 3)) % {profiles:UInt64} AS profile,
      ${dataStartMs} + intDiv(cityHash64(profile, 9) % ${yearMs} * 9, 10) AS profile_start,
      cityHash64(s, 4) / 18446744073709551616 AS spread,
      cityHash64(s, 5) AS detail,
      if(is_ticket_event,
        ${dataStartMs} + cityHash64(ticket, 4) % ${yearMs}
          + multiIf(event = 'Ticket Opened', 0, event = 'Ticket Replied', (detail % 600 + 1) * 60000, (detail % 72 + 1) * 3600000),
        profile_start + toUInt64(pow(spread, 3) * (${dataStartMs + yearMs} - profile_start))) AS at_ms,
      fromUnixTimestamp64Milli(toInt64(at_ms), 'UTC') AS ts,
      ts + toIntervalSecond(1) AS received,
      cityHash64(s, 6) % 100 AS channel_roll,
      if(is_ticket_event, ['chat', 'phone', 'email'][channel_roll % 3 + 1],
        multiIf(channel_roll < 40, 'web', channel_roll < 65, 'app', channel_roll < 77, 'email', channel_roll < 82, 'sms',
          channel_roll < 86, 'phone', channel_roll < 92, 'social', channel_roll < 97, 'chat', 'store')) AS channel,
      toString(round(5 + (detail % 20000) / 100, 2)) AS amount,
      multiIf(
        event = 'Order Completed', concat('{"order_id":"o', toString(s), if(detail % 10 < 7, '","revenue":', '","total":'), amount, '}'),
        is_ticket_event, concat('{"ticket_id":"t', toString(ticket), '"',
          if(event = 'Ticket Opened', concat(',"type":"', ['complaint', 'question', 'refund'][detail % 3 + 1], '"'), ''), '}'),
        event = 'Survey Responded', if(detail % 5 < 3,
          concat('{"survey":"nps","score":', toString(detail % 11), '}'),
          concat('{"survey":"csat","score":', toString(detail % 5 + 1), '}')),
        type = 'page', concat('{"path":"/p/', toString(detail % 500), '"}'),
        concat('{"product_id":"sku', toString(detail % 2000), '"}')) AS properties,
      if(type = 'identify', concat('{"email":"p', toString(profile), '@example.com","plan":"', ['free', 'pro', 'team'][detail % 3 + 1], '"}'), '{}') AS traits
    FROM numbers({offset:UInt64}, {count:UInt64})
  )`;

// 2% of profiles were absorbed by their neighbour, which is never itself absorbed.
export const mergeProfiles = `
  INSERT INTO profile_merges (loser_id, survivor_id, version)
  SELECT concat('p', toString(number)), concat('p', toString((number + 1) % {profiles:UInt64})), 1
  FROM numbers({profiles:UInt64}) WHERE number % 50 = 0`;

const sizesQuery = `
  SELECT
    (SELECT count() FROM events) AS stored_rows,
    (SELECT uniqExact(message_id) FROM events) AS distinct_messages,
    (SELECT count() FROM (${messagesPerSurvivor('SELECT message_id, profile_id, inserted_at FROM events', '', '1')})) AS profiles,
    (SELECT count() FROM profile_merges) AS merges,
    (SELECT count() FROM events WHERE event = 'Order Completed') AS purchases,
    (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase()) AS disk_bytes`;

/** Generates the events, unless `reuse` and the store already holds some (its load time is then 0). */
export async function loadEvents(
  client: ClickHouseClient,
  size: LoadSize,
  progress: (line: string) => void,
  reuse = false,
): Promise<LoadResult> {
  const started = performance.now();
  const existing = await client.query(
    named('bench.countStored', { query: 'SELECT count() AS stored FROM events', format: 'JSONEachRow' }),
  );
  if (reuse && ((await existing.json<{ stored: number }>())[0]?.stored ?? 0) > 0) {
    await mergeAgedParts(client, progress);
    return sizes(client, 0);
  }
  const common = {
    profiles: size.profiles,
    tickets: Math.max(1, Math.round(size.events / 50)),
    retryDistance: Math.floor(size.events / 10) + 3,
  };
  for (let offset = 0; offset < size.events; offset += chunkRows) {
    const count = Math.min(chunkRows, size.events - offset);
    await client.command(
      named('bench.loadEvents', { query: generateChunk, query_params: { ...common, offset, count } }),
    );
    progress(
      `loaded ${offset + count} / ${size.events} events after ${Math.round((performance.now() - started) / 1000)} s`,
    );
  }
  await client.command(
    named('bench.mergeProfiles', { query: mergeProfiles, query_params: { profiles: size.profiles } }),
  );
  const loadedSeconds = (performance.now() - started) / 1000;
  await mergeAgedParts(client, progress);
  return sizes(client, loadedSeconds);
}

/**
 * Merges now the parts of every table the store merges once its parts are old enough (`min_age_to_force_merge_seconds`,
 * migration 0029: profile_firsts), as it would within minutes of the last write: the timings then read the
 * store as it stands after a quiet while, and no such merge runs beside them.
 */
export async function mergeAgedParts(client: ClickHouseClient, progress: (line: string) => void): Promise<void> {
  const result = await client.query(
    named('bench.forceMergedTables', {
      query: `SELECT tables.name AS name, part.count AS parts
        FROM system.tables AS tables
        LEFT JOIN (SELECT table, count() AS count FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table) AS part
          ON part.table = tables.name
        WHERE tables.database = currentDatabase() AND tables.engine_full LIKE '%min_age_to_force_merge_seconds%'
        ORDER BY tables.name`,
      format: 'JSONEachRow',
    }),
  );
  for (const { name, parts } of await result.json<{ name: string; parts: number | string }>()) {
    if (Number(parts) <= 1) continue;
    const started = performance.now();
    await client.command(named('bench.mergeAgedParts', { query: `OPTIMIZE TABLE ${name} FINAL` }));
    progress(`merged the ${parts} parts of ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function sizes(client: ClickHouseClient, seconds: number): Promise<LoadResult> {
  const result = await client.query(named('bench.readSizes', { query: sizesQuery, format: 'JSONEachRow' }));
  const [row] = await result.json<{
    stored_rows: number;
    distinct_messages: number;
    profiles: number;
    merges: number;
    purchases: number;
    disk_bytes: number;
  }>();
  return {
    seconds,
    storedRows: row?.stored_rows ?? 0,
    distinctMessages: row?.distinct_messages ?? 0,
    profiles: row?.profiles ?? 0,
    merges: row?.merges ?? 0,
    purchases: row?.purchases ?? 0,
    diskMb: Math.round((row?.disk_bytes ?? 0) / 1024 / 1024),
  };
}
