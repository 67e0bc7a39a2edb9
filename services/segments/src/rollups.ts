// Survivors' stats and latest traits kept across evaluation passes (survivor_stats, survivor_traits; migration 0017):
// a pass rolls up again only the survivors whose stored rows changed since the previous pass read them.
import type { ClickHouseClient } from '@cdp/runtime';
import { joinSurvivors, survivorOf } from '@cdp/schemas';
import { latestTraitsOfSurvivors, statColumns, statsOfSurvivors } from './survivors';

/**
 * How much earlier than the previous pass's read a changed row is looked for. ClickHouse stamps a row when it
 * processes the insert, and the row is readable once the insert commits; a write slower than this between the two
 * would be missed until the next roll-up of everyone (every process's first pass).
 */
export const commitMarginMs = 60_000;

const since = "{rolledUpSince:DateTime64(3, 'UTC')}";

// Stored profile ids with rows written since: events (whose insert also fed profile_stats and profile_traits) and
// both sides of merges.
const changedStoredIds = `(
  SELECT profile_id FROM events WHERE inserted_at >= ${since}
  UNION ALL SELECT loser_id FROM profile_merges WHERE updated_at >= ${since}
  UNION ALL SELECT survivor_id FROM profile_merges WHERE updated_at >= ${since})`;

// Their survivors now, and every stored id those survivors absorbed: the rows their roll-ups read.
const changedSurvivors = `(SELECT DISTINCT ${survivorOf('changed.profile_id')} FROM ${changedStoredIds} AS changed ${joinSurvivors('changed.profile_id')})`;
const storedIdsOfChanged = `(SELECT * FROM ${changedSurvivors} UNION ALL SELECT loser_id FROM profile_merges FINAL WHERE survivor_id IN ${changedSurvivors})`;

const rollUpStats = (stored: string) => `
  INSERT INTO survivor_stats (${statColumns}, pass)
  SELECT ${statColumns}, {pass:UInt64} FROM (${statsOfSurvivors(stored)})`;

const rollUpTraits = (rows: string) => `
  INSERT INTO survivor_traits (key, profile_id, value, pass)
  SELECT key, survivor, latest, {pass:UInt64} FROM (${latestTraitsOfSurvivors(rows)})`;

/** Profile ids merges absorbed: their kept rows are left behind, so readers skip them. */
const survivorsOnly = 'profile_id NOT IN (SELECT loser_id FROM profile_merges)';

/** The kept stats: one row per survivor profile, in the columns of `statColumns`. */
export const keptStats = `SELECT ${statColumns} FROM survivor_stats FINAL WHERE ${survivorsOnly}`;

/** The kept latest values of the trait keys `keys` (a condition on `key`): `(key, profile_id, value)`, survivors only. */
export const keptTraits = (keys: string) => `SELECT key, profile_id, value FROM survivor_traits FINAL WHERE ${keys} AND ${survivorsOnly}`;

/** ClickHouse's clock, which stamps the rows a roll-up looks for. */
export async function clickhouseNow(client: ClickHouseClient): Promise<string> {
  const result = await client.query({ query: "SELECT toString(now64(3, 'UTC')) AS now", format: 'JSONEachRow' });
  const [row] = await result.json<{ now: string }>();
  return row!.now;
}

/** What a roll-up covers: every survivor, or those changed since a time, and which trait keys. */
export interface RollUp {
  /** A ClickHouse time: only survivors with stored rows written at or after it; null for every survivor. */
  since: string | null;
  /** The trait keys to keep (only these are rolled up). */
  traitKeys: string[];
  /** Those of `traitKeys` the previous roll-up did not keep: rolled up for every survivor. */
  newTraitKeys: string[];
}

// A roll-up's rows are one per survivor (and key) already, so the insert skips the ReplacingMergeTree's sort-and-collapse
// of each block: 1.7 s less for the stats of 1M survivors, 1.3 s for three trait keys.
const rollUpSettings = { optimize_on_insert: 0 } as const;

/** Rolls up, under pass `pass`, the stats and the trait keys `roll` names. */
export async function rollUpSurvivors(client: ClickHouseClient, pass: number, roll: RollUp): Promise<void> {
  const changed = roll.since === null ? '1' : `profile_id IN ${storedIdsOfChanged}`;
  const query_params = { pass, rolledUpSince: roll.since ?? '1970-01-01 00:00:00.000', traitKeys: roll.traitKeys, newTraitKeys: roll.newTraitKeys };
  const run = (query: string) => client.command({ query, query_params, clickhouse_settings: rollUpSettings });
  await run(rollUpStats(changed));
  if (roll.traitKeys.length > 0) await run(rollUpTraits(`key IN {traitKeys:Array(String)} AND ${changed}`));
  if (roll.since !== null && roll.newTraitKeys.length > 0) await run(rollUpTraits('key IN {newTraitKeys:Array(String)}'));
}
