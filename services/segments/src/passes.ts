// Survivor profiles as rules read them once per evaluation pass: segment_profiles (migrations 0016, 0017).
import {
  clickhouseNow,
  commitMarginMs,
  keptRowsLackKeys,
  keptStats,
  rfmOfCustomers,
  rollUpSurvivors,
  statColumns,
  statColumnsOf,
  type RollUp,
} from '@cdp/profiles';
import { named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import { behaviourCounts, behaviourKey, countedPerPass } from './behaviours';
import { createBinder } from './sql-values';

/** A complete pass of segment_profiles, and which trait keys (`trait_values`) and behaviours it holds. */
export interface Pass {
  /** The pass's number: the instant (epoch ms) its evaluation began, also the version of the membership rows it writes. */
  id: number;
  traitKeys: string[];
  /** Behaviour keys (`behaviourKey`), in the order of `behaviour_counts`. */
  behaviours: string[];
}

// Stats and the named traits come from the survivors' kept roll-up (rollups.ts), RFM scores joined from a narrow read
// of the same (the windows sort wide rows three times otherwise, 1.5 s more on 1M profiles), so a rule tests them on
// its row. A survivor without an order has NULL scores, one without any of the behaviours an empty array, from the
// LEFT JOINs.
const keptOfPass = keptStats('{traitKeys:Array(String)}');
const insertProfiles = (stats: string, rfm: string, counts: string | null) => `
  INSERT INTO segment_profiles (pass, ${statColumns}, trait_values, stat_rfm_recency, stat_rfm_frequency, stat_rfm_monetary, behaviour_counts)
  SELECT {pass:UInt64}, ${statColumnsOf('stats')}, stats.trait_values, rfm.stat_rfm_recency, rfm.stat_rfm_frequency, rfm.stat_rfm_monetary,
    ${counts ? 'behaviour.behaviour_counts' : '[]'}
  FROM (${stats}) AS stats
  LEFT JOIN (${rfm}) AS rfm ON rfm.profile_id = stats.profile_id
  ${counts ? `LEFT JOIN (${counts}) AS behaviour ON behaviour.survivor = stats.profile_id` : ''}`;
const buildProfiles = (counts: string | null) => insertProfiles(keptOfPass, rfmOfCustomers(keptOfPass), counts);

// A changed survivor's RFM scores, between full passes: each score is where its (value, profile id) falls among the
// upper bounds of the latest full pass's quintiles (`rfmBoundsOf`), in the order the pass ranked them, so a customer
// whose value did not change keeps the pass's score even among many equal values. Quintiles are global (one
// customer's new order moves everyone's ranks a little), so a full pass settles them for everyone. Values compare as
// Float64 (a time in epoch ms): exact for counts, sums and times, and one type for the bounds' parameters.
const rfmScores = [
  { score: 'stat_rfm_recency', value: 'toFloat64(toUnixTimestamp64Milli(assumeNotNull(stat_last_order_at)))' },
  { score: 'stat_rfm_frequency', value: 'toFloat64(stat_orders)' },
  { score: 'stat_rfm_monetary', value: 'toFloat64(stat_revenue)' },
] as const;
const scoreBy = ({ score, value }: (typeof rfmScores)[number]) =>
  `toNullable(toUInt64(1 + arrayCount((upper) -> upper < (${value}, profile_id), arrayZip({${score}_values:Array(Float64)}, {${score}_ids:Array(String)})))) AS ${score}`;
const rfmByBounds = (stats: string) =>
  `SELECT profile_id, ${rfmScores.map(scoreBy).join(', ')} FROM (${stats}) WHERE stat_orders > 0`;
const changedOfPass = `SELECT * FROM (${keptOfPass}) WHERE profile_id IN {survivors:Array(String)}`;
const buildChangedProfiles = (counts: string | null) =>
  insertProfiles(changedOfPass, rfmByBounds(changedOfPass), counts);

// The upper bound of each quintile but the last, per score: (value, profile id) of its last customer as the pass ranked them.
const rfmBoundsQuery = rfmScores
  .map(
    ({ score, value }) => `
  SELECT '${score}' AS score, arraySlice(arraySort(groupArray(upper)), 1, 4) AS uppers
  FROM (SELECT max((${value}, profile_id)) AS upper FROM segment_profiles WHERE pass = {scoredBy:UInt64} AND ${score} IS NOT NULL GROUP BY ${score})`,
  )
  .join(' UNION ALL ');

// A full pass's bounds never change once it is complete: read once per pass, not once per followed batch (three
// groupings of every customer's row otherwise).
const boundsByClient = new WeakMap<ClickHouseClient, { pass: number; params: Record<string, unknown> }>();

/** The RFM quintile bounds of complete pass `scoredBy`, as query parameters of `rfmByBounds`. */
async function rfmBoundsOf(client: ClickHouseClient, scoredBy: number): Promise<Record<string, unknown>> {
  const known = boundsByClient.get(client);
  if (known?.pass === scoredBy) return known.params;
  const result = await client.query(
    named('segments.readRfmBounds', { query: rfmBoundsQuery, query_params: { scoredBy }, format: 'JSONEachRow' }),
  );
  const params: Record<string, unknown> = Object.fromEntries(
    rfmScores.flatMap(({ score }) => [
      [`${score}_values`, []],
      [`${score}_ids`, []],
    ]),
  );
  for (const row of await result.json<{ score: string; uppers: Array<[number, string]> }>()) {
    params[`${row.score}_values`] = row.uppers.map(([value]) => Number(value));
    params[`${row.score}_ids`] = row.uppers.map(([, id]) => id);
  }
  boundsByClient.set(client, { pass: scoredBy, params });
  return params;
}

/** What a pass must hold for `rules`: every trait key and (up to `countedPerPass`) behaviour they name, once. */
export function passInputsOf(rules: SegmentRule[]): Pick<Pass, 'traitKeys' | 'behaviours'> {
  const traitKeys = new Set<string>();
  const behaviours = new Set<string>();
  const visit = (node: SegmentRule): void => {
    if ('and' in node) node.and.forEach(visit);
    else if ('or' in node) node.or.forEach(visit);
    else if ('not' in node) visit(node.not);
    else if ('trait' in node) traitKeys.add(node.trait);
    else if ('event' in node || 'notPerformed' in node) behaviours.add(behaviourKey(node));
  };
  rules.forEach(visit);
  return { traitKeys: [...traitKeys].sort(), behaviours: [...behaviours].sort().slice(0, countedPerPass) };
}

/**
 * The latest complete pass, or null before the first evaluation. A pass written before its traits were folded into
 * its rows (migration 0017, `rolled_up_at` 0) is none: its rows would read every trait as missing.
 */
export async function latestPass(client: ClickHouseClient): Promise<Pass | null> {
  const result = await client.query(
    named('segments.latestPass', {
      query:
        'SELECT toString(pass) AS pass, trait_keys, behaviours FROM segment_profile_passes FINAL WHERE rolled_up_at > 0',
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ pass: string; trait_keys: string[]; behaviours: string[] }>();
  return row ? { id: Number(row.pass), traitKeys: row.trait_keys, behaviours: row.behaviours } : null;
}

/**
 * Records that every segment of full evaluation `pass` (its version, the instant it began) has its changes stored:
 * sizes and movements are as of it from now on.
 */
export async function recordEvaluated(client: ClickHouseClient, pass: number): Promise<void> {
  await client.insert(
    named('segments.recordEvaluated', {
      table: 'segment_evaluations',
      values: [{ pass, finished_at: toClickHouseTime(Date.now()) }],
      format: 'JSONEachRow',
    }),
  );
}

/** The latest full evaluation whose every segment's changes are stored (its pass), or null before the first. */
export async function latestEvaluated(client: ClickHouseClient): Promise<number | null> {
  const result = await client.query(
    named('segments.latestEvaluated', {
      query: 'SELECT toString(max(pass)) AS pass, count() AS evaluations FROM segment_evaluations',
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ pass: string; evaluations: string | number }>();
  return Number(row?.evaluations ?? 0) > 0 ? Number(row!.pass) : null;
}

/**
 * What this pass rolls up again: with `changedOnly` and a previous pass whose kept rows hold every trait key this one
 * names, the survivors that changed since it read them (less the margin); else everything. And when the roll-up of
 * everyone that the kept rows go back to was read (a ClickHouse time): now, for a roll-up of everyone.
 */
async function rollUpOf(
  client: ClickHouseClient,
  traitKeys: string[],
  changedOnly: boolean,
  followed: boolean,
): Promise<RollUp & { everyoneAt: string | null }> {
  const everything = { since: null, traitKeys, everyoneAt: null };
  if (!changedOnly) return everything;
  const result = await client.query(
    named('segments.readPreviousPass', {
      query: `SELECT toString(pass) AS pass, toString(rolled_up_at - toIntervalMillisecond({margin:UInt32})) AS since, trait_keys,
          toString(everyone_rolled_up_at) AS everyone_at
        FROM segment_profile_passes FINAL WHERE rolled_up_at > 0`,
      query_params: { margin: commitMarginMs },
      format: 'JSONEachRow',
    }),
  );
  const [previous] = await result.json<{ pass: string; since: string; trait_keys: string[]; everyone_at: string }>();
  // A key the previous pass did not name is in no kept row: rolled up for everyone, with the stats (a rare change).
  if (!previous || traitKeys.some((key) => !previous.trait_keys.includes(key))) return everything;
  // Nor in the rows a failed pass after it rolled up for other keys.
  if (await keptRowsLackKeys(client, Number(previous.pass), traitKeys)) return everything;
  return { since: previous.since, traitKeys, followed, everyoneAt: previous.everyone_at };
}

/**
 * When the latest pass's kept roll-ups were last read for every survivor (epoch ms), or null when no pass says (none
 * yet, or written before passes recorded it): a process's first pass rolls up everyone again only when that is long ago.
 */
export async function everyoneRolledUpAt(client: ClickHouseClient): Promise<number | null> {
  const result = await client.query(
    named('segments.readEveryoneRolledUpAt', {
      query:
        'SELECT toUnixTimestamp64Milli(everyone_rolled_up_at) AS at FROM segment_profile_passes FINAL WHERE rolled_up_at > 0',
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ at: number | string }>();
  const at = Number(row?.at ?? 0);
  return at > 0 ? at : null;
}

/**
 * Builds pass `pass` as seen at instant `now` (behaviour windows end there) and makes it the latest; returns the
 * pass it replaced (kept for readers still on it). With `changedOnly`, only the survivors whose stored rows changed
 * since the latest pass read them are rolled up again (all of them when there is no such pass); with `followed` as
 * well, less those a roll-up begun after their last write keeps (`rollUpSurvivors`). `inTurn` runs the
 * step that makes it the latest in a turn. Rolling up and building its rows, the long part, run beside other
 * evaluations: they read only complete passes, and a kept roll-up row of a later pass wins over this one's. The first
 * pass of a store runs in one turn.
 */
export async function buildPass(
  client: ClickHouseClient,
  pass: Pass,
  now: number,
  options: {
    changedOnly?: boolean;
    /** Change records are followed: the survivors following rolled up since their last write are not rolled up again. */
    followed?: boolean;
    inTurn?: <T>(step: () => Promise<T>) => Promise<T>;
  } = {},
): Promise<Pass | null> {
  const inTurn = options.inTurn ?? (<T>(step: () => Promise<T>) => step());
  const build = async (makeLatest: <T>(step: () => Promise<T>) => Promise<T>) => {
    const readAt = await clickhouseNow(client);
    const roll = await rollUpOf(client, pass.traitKeys, options.changedOnly ?? false, options.followed ?? false);
    await rollUpSurvivors(client, pass.id, roll);
    const everyoneAt = roll.since === null ? readAt : roll.everyoneAt;
    const binder = createBinder(now);
    const counts = pass.behaviours.length > 0 ? behaviourCounts(binder, pass.behaviours) : null;
    await markPass(client, pass.id);
    await client.command(
      named('segments.buildPass', {
        query: buildProfiles(counts),
        query_params: { ...binder.params, pass: pass.id, traitKeys: pass.traitKeys },
      }),
    );
    return makeLatest(async () => {
      const replaced = await latestPass(client);
      await client.insert(
        named('segments.recordPass', {
          table: 'segment_profile_passes',
          values: [
            {
              pass: pass.id,
              trait_keys: pass.traitKeys,
              behaviours: pass.behaviours,
              rolled_up_at: readAt,
              everyone_rolled_up_at: everyoneAt ?? '1970-01-01 00:00:00.000',
            },
          ],
          format: 'JSONEachRow',
        }),
      );
      return replaced;
    });
  };
  // Until a pass is complete, other evaluations have nothing to compare with: the first one holds the turn throughout,
  // so that they wait for it rather than pass over changes it may have read too early to see.
  if ((await latestPass(client)) === null) return inTurn(() => build((step) => step()));
  return build(inTurn);
}

/**
 * Builds pass `pass` of the named survivors only, as seen at instant `now`, for evaluating the segments of just those
 * profiles: their stats and traits rolled up again (kept, so the next full pass need not), RFM scores placed by the
 * quintiles of the latest full pass `scoredBy`. It never becomes the latest pass; the caller drops it when done.
 * `stored` are the survivors and every id they absorbed.
 */
export async function buildChangedPass(
  client: ClickHouseClient,
  pass: Pass,
  changed: { survivors: string[]; stored: string[] },
  now: number,
  scoredBy: Pass,
): Promise<void> {
  await rollUpSurvivors(client, pass.id, { since: null, survivors: changed.survivors, traitKeys: pass.traitKeys });
  const binder = createBinder(now);
  const counts =
    pass.behaviours.length > 0
      ? behaviourCounts(binder, pass.behaviours, `profile_id IN {stored:Array(String)}`)
      : null;
  await markPass(client, pass.id);
  await client.command(
    named('segments.buildChangedPass', {
      query: buildChangedProfiles(counts),
      query_params: {
        ...binder.params,
        ...(await rfmBoundsOf(client, scoredBy.id)),
        pass: pass.id,
        traitKeys: pass.traitKeys,
        survivors: changed.survivors,
        stored: changed.stored,
      },
    }),
  );
}

/**
 * Besides its survivors a pass holds one row with no profile id (rules skip it), so that a pass of an empty profile
 * base still exists for passExists.
 */
async function markPass(client: ClickHouseClient, pass: number): Promise<void> {
  await client.insert(
    named('segments.markPass', {
      table: 'segment_profiles',
      values: [{ pass, profile_id: '' }],
      format: 'JSONEachRow',
    }),
  );
}

/** False once a newer evaluator dropped the pass: its rules would then see no profiles at all. */
export async function passExists(client: ClickHouseClient, pass: number): Promise<boolean> {
  const result = await client.query(
    named('segments.passExists', {
      query: 'SELECT count() > 0 AS present FROM (SELECT 1 FROM segment_profiles WHERE pass = {pass:UInt64} LIMIT 1)',
      query_params: { pass },
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ present: number | boolean }>();
  return Number(row?.present ?? 0) === 1 || row?.present === true;
}

/** The tables partitioned by pass. */
export type PassTable = 'segment_profiles' | 'segment_diffs';

/** Drops the passes of `table` (partitioned by pass) below `below`, and pass `exactly` if given. */
export async function dropPasses(
  client: ClickHouseClient,
  table: PassTable,
  passes: { below: number; exactly?: number },
): Promise<void> {
  const result = await client.query(
    named('segments.listPassPartitions', {
      query: `SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active
      AND (toUInt64(partition) < {below:UInt64} OR toUInt64(partition) = {exactly:UInt64})`,
      // No pass is 0: a version is a time in milliseconds.
      query_params: { table, below: passes.below, exactly: passes.exactly ?? 0 },
      format: 'JSONEachRow',
    }),
  );
  // A partition of these tables is a pass number: BigInt refuses anything else before it reaches the statement.
  for (const { partition } of await result.json<{ partition: string }>()) {
    await client.command(
      named('segments.dropPassPartition', {
        query: `ALTER TABLE ${table} DROP PARTITION ${BigInt(partition).toString()}`,
      }),
    );
  }
}
