// Survivor profiles as rules read them once per evaluation pass: segment_profiles (migrations 0016, 0017).
import { clickhouseNow, commitMarginMs, keptRowsLackKeys, keptStats, rfmOfCustomers, rollUpSurvivors, statColumns, statColumnsOf, type RollUp } from '@cdp/profiles';
import { named, type ClickHouseClient } from '@cdp/runtime';
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
// upper bounds of the latest full pass's quintiles (`{scoredBy}`), in the order the pass ranked them, so a customer
// whose value did not change keeps the pass's score even among many equal values. Quintiles are global (one
// customer's new order moves everyone's ranks a little), so a full pass settles them for everyone.
const uppersOf = (score: string, stat: string) => `(
  SELECT arraySlice(arraySort(groupArray(upper)), 1, 4)
  FROM (SELECT max((assumeNotNull(${stat}), profile_id)) AS upper FROM segment_profiles WHERE pass = {scoredBy:UInt64} AND ${score} IS NOT NULL GROUP BY ${score}))`;
const scoreBy = (score: string, stat: string) =>
  `toNullable(toUInt64(1 + arrayCount((upper) -> upper < (assumeNotNull(${stat}), profile_id), ${uppersOf(score, stat)}))) AS ${score}`;
const rfmByBounds = (stats: string) => `
  SELECT profile_id, ${scoreBy('stat_rfm_recency', 'stat_last_order_at')}, ${scoreBy('stat_rfm_frequency', 'stat_orders')},
    ${scoreBy('stat_rfm_monetary', 'stat_revenue')}
  FROM (${stats}) WHERE stat_orders > 0`;
const changedOfPass = `SELECT * FROM (${keptOfPass}) WHERE profile_id IN {survivors:Array(String)}`;
const buildChangedProfiles = (counts: string | null) => insertProfiles(changedOfPass, rfmByBounds(changedOfPass), counts);

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
  const result = await client.query(named('segments.latestPass', {
    query: 'SELECT toString(pass) AS pass, trait_keys, behaviours FROM segment_profile_passes FINAL WHERE rolled_up_at > 0',
    format: 'JSONEachRow',
  }));
  const [row] = await result.json<{ pass: string; trait_keys: string[]; behaviours: string[] }>();
  return row ? { id: Number(row.pass), traitKeys: row.trait_keys, behaviours: row.behaviours } : null;
}

/**
 * What this pass rolls up again: with `changedOnly` and a previous pass whose kept rows hold every trait key this one
 * names, the survivors that changed since it read them (less the margin); else everything.
 */
async function rollUpOf(client: ClickHouseClient, traitKeys: string[], changedOnly: boolean): Promise<RollUp> {
  const everything: RollUp = { since: null, traitKeys };
  if (!changedOnly) return everything;
  const result = await client.query(named('segments.readPreviousPass', {
    query: `SELECT toString(pass) AS pass, toString(rolled_up_at - toIntervalMillisecond({margin:UInt32})) AS since, trait_keys
      FROM segment_profile_passes FINAL WHERE rolled_up_at > 0`,
    query_params: { margin: commitMarginMs },
    format: 'JSONEachRow',
  }));
  const [previous] = await result.json<{ pass: string; since: string; trait_keys: string[] }>();
  // A key the previous pass did not name is in no kept row: rolled up for everyone, with the stats (a rare change).
  if (!previous || traitKeys.some((key) => !previous.trait_keys.includes(key))) return everything;
  // Nor in the rows a failed pass after it rolled up for other keys.
  if (await keptRowsLackKeys(client, Number(previous.pass), traitKeys)) return everything;
  return { since: previous.since, traitKeys };
}

/**
 * Builds pass `pass` as seen at instant `now` (behaviour windows end there) and makes it the latest; returns the
 * pass it replaced (kept for readers still on it). With `changedOnly`, only the survivors whose stored rows changed
 * since the latest pass read them are rolled up again (all of them when there is no such pass).
 */
export async function buildPass(
  client: ClickHouseClient,
  pass: Pass,
  now: number,
  options: { changedOnly?: boolean } = {},
): Promise<Pass | null> {
  const readAt = await clickhouseNow(client);
  await rollUpSurvivors(client, pass.id, await rollUpOf(client, pass.traitKeys, options.changedOnly ?? false));
  const binder = createBinder(now);
  const counts = pass.behaviours.length > 0 ? behaviourCounts(binder, pass.behaviours) : null;
  // Besides its survivors a pass holds one row with no profile id (rules skip it), so that a pass of an empty
  // profile base still exists for passExists.
  await client.insert(named('segments.markPass', { table: 'segment_profiles', values: [{ pass: pass.id, profile_id: '' }], format: 'JSONEachRow' }));
  await client.command(named('segments.buildPass', { query: buildProfiles(counts), query_params: { ...binder.params, pass: pass.id, traitKeys: pass.traitKeys } }));
  const replaced = await latestPass(client);
  await client.insert(named('segments.recordPass', {
    table: 'segment_profile_passes',
    values: [{ pass: pass.id, trait_keys: pass.traitKeys, behaviours: pass.behaviours, rolled_up_at: readAt }],
    format: 'JSONEachRow',
  }));
  return replaced;
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
  const counts = pass.behaviours.length > 0 ? behaviourCounts(binder, pass.behaviours, `profile_id IN {stored:Array(String)}`) : null;
  await client.insert(named('segments.markChangedPass', { table: 'segment_profiles', values: [{ pass: pass.id, profile_id: '' }], format: 'JSONEachRow' }));
  await client.command(named('segments.buildChangedPass', {
    query: buildChangedProfiles(counts),
    query_params: { ...binder.params, pass: pass.id, traitKeys: pass.traitKeys, survivors: changed.survivors, stored: changed.stored, scoredBy: scoredBy.id },
  }));
}

/** False once a newer evaluator dropped the pass: its rules would then see no profiles at all. */
export async function passExists(client: ClickHouseClient, pass: number): Promise<boolean> {
  const result = await client.query(named('segments.passExists', { query: 'SELECT count() > 0 AS present FROM (SELECT 1 FROM segment_profiles WHERE pass = {pass:UInt64} LIMIT 1)', query_params: { pass }, format: 'JSONEachRow' }));
  const [row] = await result.json<{ present: number | boolean }>();
  return Number(row?.present ?? 0) === 1 || row?.present === true;
}

/** The tables partitioned by pass. */
export type PassTable = 'segment_profiles' | 'segment_diffs';

/** Drops the passes of `table` (partitioned by pass) below `below`, and pass `exactly` if given. */
export async function dropPasses(client: ClickHouseClient, table: PassTable, passes: { below: number; exactly?: number }): Promise<void> {
  const result = await client.query(named('segments.listPassPartitions', {
    query: `SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active
      AND (toUInt64(partition) < {below:UInt64} OR toUInt64(partition) = {exactly:UInt64})`,
    // No pass is 0: a version is a time in milliseconds.
    query_params: { table, below: passes.below, exactly: passes.exactly ?? 0 },
    format: 'JSONEachRow',
  }));
  // A partition of these tables is a pass number: BigInt refuses anything else before it reaches the statement.
  for (const { partition } of await result.json<{ partition: string }>()) {
    await client.command(named('segments.dropPassPartition', { query: `ALTER TABLE ${table} DROP PARTITION ${BigInt(partition).toString()}` }));
  }
}
