// Survivor profiles as rules read them once per evaluation pass: segment_profiles and segment_profile_traits (0016).
import type { ClickHouseClient } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import { behaviourCounts, behaviourKey, countedPerPass } from './behaviours';
import { createBinder } from './sql-values';
import { latestTraitsOfSurvivors, statsOfSurvivors, withRfm } from './survivors';

/** A complete pass of segment_profiles and segment_profile_traits, and which trait keys and behaviours it holds. */
export interface ProfileSnapshot {
  pass: number;
  traitKeys: string[];
  /** Behaviour keys (`behaviourKey`), in the order of `behaviour_counts`. */
  behaviours: string[];
}

const namedTraitKeys = 'key IN {traitKeys:Array(String)}';

const statColumns = `profile_id, stat_events, stat_first_seen, stat_last_seen, stat_orders, stat_revenue, stat_last_order_at, stat_channels,
  stat_latest_nps, stat_latest_csat, stat_open_tickets`;
const snapshotColumns = `${statColumns}, stat_rfm_recency, stat_rfm_frequency, stat_rfm_monetary`;

// The RFM windows sort every row three times, so the order list (only counted and summed) is left out before them.
// A survivor without any of the behaviours gets an empty array from the LEFT JOIN.
const buildProfiles = (counts: string | null) => `
  INSERT INTO segment_profiles (pass, ${snapshotColumns}, behaviour_counts)
  SELECT {pass:UInt64}, ${snapshotColumns}, ${counts ? 'behaviour.behaviour_counts' : '[]'}
  FROM (${withRfm(`SELECT ${statColumns} FROM (${statsOfSurvivors})`)}) AS stats
  ${counts ? `LEFT JOIN (${counts}) AS behaviour ON behaviour.survivor = stats.profile_id` : ''}`;

// One row per (trait, survivor): grouping them again into one map per survivor would cost more than the roll-up.
const buildTraits = `
  INSERT INTO segment_profile_traits (pass, key, profile_id, value)
  SELECT {pass:UInt64}, key, survivor, latest FROM (${latestTraitsOfSurvivors(namedTraitKeys)})`;

/** What a pass must hold for `rules`: every trait key and (up to `countedPerPass`) behaviour they name, once. */
export function snapshotInputsOf(rules: SegmentRule[]): Pick<ProfileSnapshot, 'traitKeys' | 'behaviours'> {
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

/** The latest complete pass, or null before the first evaluation. */
export async function latestSnapshot(client: ClickHouseClient): Promise<ProfileSnapshot | null> {
  const result = await client.query({ query: 'SELECT toString(pass) AS pass, trait_keys, behaviours FROM segment_profile_passes FINAL', format: 'JSONEachRow' });
  const [row] = await result.json<{ pass: string; trait_keys: string[]; behaviours: string[] }>();
  return row ? { pass: Number(row.pass), traitKeys: row.trait_keys, behaviours: row.behaviours } : null;
}

/**
 * Builds pass `pass` as seen at instant `now` (behaviour windows end there) and makes it the latest; returns the
 * pass it replaced (kept for readers still on it).
 */
export async function buildProfileSnapshot(client: ClickHouseClient, snapshot: ProfileSnapshot, now: number): Promise<ProfileSnapshot | null> {
  const binder = createBinder(now);
  const counts = snapshot.behaviours.length > 0 ? behaviourCounts(binder, snapshot.behaviours) : null;
  // Besides its survivors a pass holds one row with no profile id (rules skip it), so that a pass of an empty
  // profile base still exists for snapshotExists.
  await client.insert({ table: 'segment_profiles', values: [{ pass: snapshot.pass, profile_id: '' }], format: 'JSONEachRow' });
  await client.command({ query: buildProfiles(counts), query_params: { ...binder.params, pass: snapshot.pass } });
  await client.command({ query: buildTraits, query_params: { pass: snapshot.pass, traitKeys: snapshot.traitKeys } });
  const replaced = await latestSnapshot(client);
  await client.insert({
    table: 'segment_profile_passes',
    values: [{ pass: snapshot.pass, trait_keys: snapshot.traitKeys, behaviours: snapshot.behaviours }],
    format: 'JSONEachRow',
  });
  return replaced;
}

/** False once a newer evaluator dropped the pass: its rules would then see no profiles at all. */
export async function snapshotExists(client: ClickHouseClient, pass: number): Promise<boolean> {
  const result = await client.query({ query: 'SELECT count() > 0 AS present FROM (SELECT 1 FROM segment_profiles WHERE pass = {pass:UInt64} LIMIT 1)', query_params: { pass }, format: 'JSONEachRow' });
  const [row] = await result.json<{ present: number | boolean }>();
  return Number(row?.present ?? 0) === 1 || row?.present === true;
}

/** The tables partitioned by pass. */
export type PassTable = 'segment_profiles' | 'segment_profile_traits' | 'segment_diffs';

/** Drops the passes of `table` (partitioned by pass) below `below`, and pass `exactly` if given. */
export async function dropPasses(client: ClickHouseClient, table: PassTable, passes: { below: number; exactly?: number }): Promise<void> {
  const result = await client.query({
    query: `SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active
      AND (toUInt64(partition) < {below:UInt64} OR toUInt64(partition) = {exactly:UInt64})`,
    // No pass is 0: a version is a time in milliseconds.
    query_params: { table, below: passes.below, exactly: passes.exactly ?? 0 },
    format: 'JSONEachRow',
  });
  // A partition of these tables is a pass number: BigInt refuses anything else before it reaches the statement.
  for (const { partition } of await result.json<{ partition: string }>()) {
    await client.command({ query: `ALTER TABLE ${table} DROP PARTITION ${BigInt(partition).toString()}` });
  }
}
