// Fills a fresh store with a year of synthetic events up to now, generated inside ClickHouse: one identify per profile with traits, the rest behaviour.
import { named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
// 2% of profiles were absorbed by their neighbour (rules read through the survivor map), as in the analytics data.
import { mergeAgedParts, mergeProfiles } from '../analytics/load';

export interface LoadSize {
  events: number;
  profiles: number;
}

export interface LoadResult {
  seconds: number;
  events: number;
  profiles: number;
  /** Profiles the load generated, with userIds u0 … u(n − 1) (live traffic of earlier runs adds others). */
  generated: number;
  merges: number;
  orders: number;
  profileStatsRows: number;
  profileTraitRows: number;
  identities: number;
  diskMb: number;
}

const dayMs = 86_400_000;
const chunkRows = 1_000_000;

// Windows end at {end} (now at load time) so the lifecycle segments see new, active, dormant and churned profiles:
// a profile starts up to 420 days back and its events spread after its start, thinning out towards now.
const atMs = (start: string, spread: string) => `${start} + toUInt64(pow(${spread}, 2) * ({end:UInt64} - ${start}))`;
const profileStart = (profile: string) => `({end:UInt64} - cityHash64(${profile}, 9) % ${420 * dayMs})`;

// One identify per profile, near its start: plan (half free), country, age, email.
const identifyChunk = `
  INSERT INTO events (message_id, profile_id, type, event, name, user_id, anonymous_id, group_id, previous_id, timestamp,
    original_timestamp, sent_at, received_at, channel, source, properties, traits, context, inserted_at)
  SELECT concat('i', toString(number)), concat('p', toString(number)), 'identify', '', '', concat('u', toString(number)),
    concat('a', toString(number)), '', '', ts, ts, ts, ts + toIntervalSecond(1), 'web', 'web', '{}',
    concat('{"email":"p', toString(number), '@example.com","plan":"', plan, '","country":"', country, '","age":', toString(18 + roll % 53), '}'),
    '{"library":{"name":"analytics.js"}}', ts + toIntervalSecond(1)
  FROM (
    SELECT number, cityHash64(number, 20) AS roll, roll % 100 AS share,
      multiIf(share < 50, 'free', share < 85, 'pro', 'team') AS plan,
      ['US', 'US', 'US', 'DE', 'DE', 'GB', 'GB', 'FR', 'VN', 'BR'][intDiv(roll, 100) % 10 + 1] AS country,
      fromUnixTimestamp64Milli(toInt64(${atMs(profileStart('number'), '(cityHash64(number, 21) % 1000 / 10000)')}), 'UTC') AS ts
    FROM numbers({offset:UInt64}, {count:UInt64})
  )`;

// Behaviour: pages, product views and adds, orders (revenue, category), email opens, NPS surveys, tickets; each message
// `prefix` + its number, at the time `at` gives it (an expression of its profile `profile` and its number `n`), stored
// at `storedAt` (an expression of that time `ts`).
const behaviourRows = (prefix: string, at: string, storedAt: string) => `
  INSERT INTO events (message_id, profile_id, type, event, name, user_id, anonymous_id, group_id, previous_id, timestamp,
    original_timestamp, sent_at, received_at, channel, source, properties, traits, context, inserted_at)
  SELECT concat('${prefix}', toString(n)), concat('p', toString(profile)), type, event, if(type = 'page', 'Product', ''),
    concat('u', toString(profile)), concat('a', toString(profile)), '', '', ts, ts, ts, ts + toIntervalSecond(1),
    channel, if(channel = 'app', 'ios', 'web'), properties, '{}', '{"library":{"name":"analytics.js"}}', ${storedAt}
  FROM (
    SELECT number AS n, cityHash64(n, 1) % 1000 AS roll, cityHash64(n, 5) AS detail,
      multiIf(roll < 400, 'page', 'track') AS type,
      multiIf(type = 'page', '', roll < 480, 'Order Completed', roll < 495, 'Ticket Opened', roll < 505, 'Ticket Resolved',
        roll < 520, 'Survey Responded', roll < 750, 'Product Viewed', roll < 850, 'Product Added', 'Email Opened') AS event,
      startsWith(event, 'Ticket') AS is_ticket,
      cityHash64(n, 2) % {tickets:UInt64} AS ticket,
      if(is_ticket, cityHash64(ticket, 3), cityHash64(n, 3)) % {profiles:UInt64} AS profile,
      fromUnixTimestamp64Milli(toInt64(${at}), 'UTC') AS ts,
      cityHash64(n, 6) % 100 AS channel_roll,
      multiIf(is_ticket, 'chat', channel_roll < 45, 'web', channel_roll < 70, 'app', channel_roll < 85, 'email', channel_roll < 93, 'store', 'sms') AS channel,
      multiIf(
        event = 'Order Completed', concat('{"order_id":"o', toString(n), '","revenue":', toString(round(5 + (detail % 30000) / 100, 2)),
          ',"category":"', ['shoes', 'bags', 'books', 'toys', 'garden'][detail % 5 + 1], '"}'),
        is_ticket, concat('{"ticket_id":"t', toString(ticket), '"}'),
        event = 'Survey Responded', concat('{"survey":"nps","score":', toString(detail % 11), '}'),
        type = 'page', concat('{"path":"/p/', toString(detail % 500), '"}'),
        concat('{"product_id":"sku', toString(detail % 2000), '"}')) AS properties
    FROM numbers({offset:UInt64}, {count:UInt64})
  )`;

// The history: a profile's events spread over its life, thinning out towards the end of the data, each stored a
// second after it happened (as the resolver would have stored it), so no evaluation takes history for new arrivals.
const behaviourChunk = behaviourRows(
  'm',
  atMs(profileStart('profile'), '(cityHash64(n, 4) / 18446744073709551616)'),
  'ts + toIntervalSecond(1)',
);

// Live traffic: messages of the minute before {end}, stored now, as the resolver writes them between two evaluations.
const arrivalsChunk = behaviourRows('live', '{end:UInt64} - cityHash64(n, 4) % 60000', 'now64(3)');

// What the resolver would have linked: each profile's userId, anonymousId and email (audiences export them).
const linkIdentities = `
  INSERT INTO identities (type, value, profile_id, version)
  SELECT kind.1, concat(kind.2, toString(number), kind.3), concat('p', toString(number)), 1
  FROM numbers({profiles:UInt64})
  ARRAY JOIN [('user_id', 'u', ''), ('anonymous_id', 'a', ''), ('email', 'p', '@example.com')] AS kind`;

const sizesQuery = `
  SELECT
    (SELECT count() FROM events) AS events,
    (SELECT uniqExact(profile_id) FROM profile_stats) AS stored_profiles,
    (SELECT count() FROM profile_merges) AS merges,
    (SELECT uniqExact(value) FROM identities WHERE type = 'user_id' AND match(value, '^u[0-9]+$')) AS generated,
    (SELECT count() FROM events WHERE event = 'Order Completed') AS orders,
    (SELECT count() FROM profile_stats) AS profile_stats_rows,
    (SELECT count() FROM profile_traits) AS profile_trait_rows,
    (SELECT count() FROM identities) AS identities,
    (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase()) AS disk_bytes`;

/** The parameters every chunk of behaviour shares: the data's end, its profiles, and one ticket per 40 messages. */
const chunkParams = (size: LoadSize, end: number) => ({
  end,
  profiles: size.profiles,
  tickets: Math.max(1, Math.round(Math.max(0, size.events - size.profiles) / 40)),
});

/**
 * Inserts `size.events` events (one identify per profile, the rest behaviour) through the materialized views, unless
 * `reuse` and the store already holds some (its load time is then 0): then only the segments, their membership and
 * the passes' tables are cleared, so the first evaluation is again one of a store never evaluated.
 */
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
  if (reuse && Number((await existing.json<{ stored: number }>())[0]?.stored ?? 0) > 0) {
    // Everything a pass left, too: the first pass then rolls up everyone, as on a store never evaluated.
    for (const table of [
      'segments',
      'segment_membership',
      'segment_evaluations',
      'segment_profile_passes',
      'segment_profiles',
      'segment_diffs',
      'survivor_stats',
    ])
      await client.command(named('bench.truncate', { query: `TRUNCATE TABLE ${table}` }));
    await mergeAgedParts(client, progress);
    return sizes(client, 0);
  }
  const end = Date.now() - 60_000;
  const behaviour = Math.max(0, size.events - size.profiles);
  const common = chunkParams(size, end);
  for (let offset = 0; offset < size.profiles; offset += chunkRows) {
    const count = Math.min(chunkRows, size.profiles - offset);
    await client.command(
      named('bench.loadIdentifies', { query: identifyChunk, query_params: { ...common, offset, count } }),
    );
  }
  for (let offset = 0; offset < behaviour; offset += chunkRows) {
    const count = Math.min(chunkRows, behaviour - offset);
    await client.command(
      named('bench.loadBehaviour', { query: behaviourChunk, query_params: { ...common, offset, count } }),
    );
    progress(
      `loaded ${size.profiles + offset + count} / ${size.events} events after ${Math.round((performance.now() - started) / 1000)} s`,
    );
  }
  await client.command(
    named('bench.mergeProfiles', { query: mergeProfiles, query_params: { profiles: size.profiles } }),
  );
  await client.command(
    named('bench.linkIdentities', { query: linkIdentities, query_params: { profiles: size.profiles } }),
  );
  progress(`data ends ${toClickHouseTime(end)} UTC`);
  const loadedSeconds = (performance.now() - started) / 1000;
  await mergeAgedParts(client, progress);
  return sizes(client, loadedSeconds);
}

/**
 * Stores `count` messages of the last minute for random profiles of the data, as live traffic between two
 * evaluations; their message ids are new on every call.
 */
export async function loadArrivals(client: ClickHouseClient, size: LoadSize, count: number): Promise<void> {
  const end = Date.now();
  await client.command(
    named('bench.loadArrivals', {
      query: arrivalsChunk,
      query_params: { ...chunkParams(size, end), offset: end * 1000, count },
    }),
  );
}

async function sizes(client: ClickHouseClient, seconds: number): Promise<LoadResult> {
  const result = await client.query(named('bench.readSizes', { query: sizesQuery, format: 'JSONEachRow' }));
  const [row] = await result.json<Record<string, number>>();
  return {
    seconds,
    events: Number(row?.events ?? 0),
    profiles: Number(row?.stored_profiles ?? 0) - Number(row?.merges ?? 0),
    generated: Number(row?.generated ?? 0),
    merges: Number(row?.merges ?? 0),
    orders: Number(row?.orders ?? 0),
    profileStatsRows: Number(row?.profile_stats_rows ?? 0),
    profileTraitRows: Number(row?.profile_trait_rows ?? 0),
    identities: Number(row?.identities ?? 0),
    diskMb: Math.round(Number(row?.disk_bytes ?? 0) / 1024 / 1024),
  };
}
