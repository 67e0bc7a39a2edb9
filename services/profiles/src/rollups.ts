// Survivors' stats and latest traits kept across evaluation passes (survivor_stats; migration 0017): a pass rolls up
// again only the survivors whose stored rows changed since the previous pass read them.
import { named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { latestTraitsOfSurvivors, statColumns, statColumnsOf, statsOfSurvivors } from './stats';
import { rows } from './rows';
import { absorbedBy, absorbedByFew, joinSurvivors, notAbsorbed, survivorOf } from './survivors';

/**
 * How much earlier than the previous pass's read a changed row is looked for. ClickHouse stamps a row when it
 * processes the insert, and the row is readable once the insert commits; a write slower than this between the two
 * would be missed until the next roll-up of everyone (a store's first pass, then hourly).
 */
export const commitMarginMs = 60_000;

const since = "{rolledUpSince:DateTime64(3, 'UTC')}";

// Stored profile ids with rows written since, each with when (ClickHouse's stamp): events (whose insert also fed
// profile_stats and profile_traits) and both sides of merges.
const changedStoredIds = `(
  SELECT profile_id, inserted_at AS at FROM events WHERE inserted_at >= ${since}
  UNION ALL SELECT loser_id, updated_at FROM profile_merges WHERE updated_at >= ${since}
  UNION ALL SELECT survivor_id, updated_at FROM profile_merges WHERE updated_at >= ${since})`;

// Their survivors now, each with when its rows were last written.
const survivorChanges = `
    SELECT ${survivorOf('changed.profile_id')} AS survivor, max(changed.at) AS last_changed
    FROM ${changedStoredIds} AS changed ${joinSurvivors('changed.profile_id')}
    GROUP BY survivor`;

// Those survivors, and every stored id they absorbed: the rows their roll-ups read.
const changedSurvivors = `(SELECT survivor FROM (${survivorChanges}))`;
const storedIdsOfChanged = `(SELECT * FROM ${changedSurvivors} UNION ALL SELECT * FROM ${absorbedBy(changedSurvivors)})`;

// Where change records are followed: those survivors less the ones whose kept row a roll-up begun at or after their
// last write keeps (its pass is the instant, epoch ms, its evaluation began). Following rolls a survivor up after
// each change's record, which the resolver publishes once the rows are written, so that roll-up read them; a write
// that another roll-up began too early to see (stamped before it began, committed after it read) has a record of its
// own, followed in turn. A survivor without such a row (its record not followed yet, its roll-up failed) is rolled
// up. Under steady load following has rolled up nearly every changed survivor, so a pass rolls up few instead of
// everyone active since the last one. Left to the hourly roll-up of everyone: such a write whose record could not be
// followed (skipped after failing), in a window as wide as ClickHouse's clock (the stamp) lags Node's (the pass).
const changedNotRolledUp = `
  SELECT change.survivor AS survivor
  FROM (${survivorChanges}) AS change
  LEFT JOIN (
    SELECT profile_id, max(pass) AS kept_pass FROM survivor_stats WHERE pass >= toUnixTimestamp64Milli(${since}) GROUP BY profile_id
  ) AS kept ON kept.profile_id = change.survivor
  WHERE kept.kept_pass < toUnixTimestamp64Milli(change.last_changed)
  ORDER BY survivor
  LIMIT {limit:UInt32}`;

/**
 * At most this many survivors are rolled up by name after skipping what following rolled up (a list read once, so
 * the survivors and the ids they absorbed come from one reading); more, and the pass rolls up every changed survivor.
 */
const namedRollUpLimit = 10_000;

// The survivors a roll-up names, and every stored id they absorbed.
const storedIdsOfNamed = `(SELECT arrayJoin({survivors:Array(String)}) UNION ALL SELECT * FROM ${absorbedByFew('{survivors:Array(String)}')})`;

// A survivor's stats and, in one array, the latest raw JSON value of each trait key (in {traitKeys} order; '' where it
// has none, and no array at all, from the LEFT JOIN, where it has none of them).
const rollUp = (stored: string, traitCount: number) => `
  INSERT INTO survivor_stats (${statColumns}, trait_keys, trait_values, pass)
  SELECT ${statColumnsOf('stats')}, {traitKeys:Array(String)}, ${traitCount > 0 ? 'trait.trait_values' : '[]'}, {pass:UInt64}
  FROM (${statsOfSurvivors(stored)}) AS stats
  ${traitCount > 0 ? `LEFT JOIN (${foldTraits(stored, traitCount)}) AS trait ON trait.survivor = stats.profile_id` : ''}`;

const foldTraits = (stored: string, count: number) => `
  SELECT survivor, [${Array.from({ length: count }, (_, index) => `anyIf(latest, key = {traitKeys:Array(String)}[${index + 1}])`).join(', ')}] AS trait_values
  FROM (${latestTraitsOfSurvivors(`key IN {traitKeys:Array(String)} AND ${stored}`)})
  GROUP BY survivor`;

/**
 * The kept roll-ups (an absorbed profile's kept row is left behind: skipped): one row per survivor profile, in the columns of `statColumns`, and `trait_values`, the latest raw
 * JSON value of each of `keys` (an `Array(String)` expression) in that order, '' where the survivor has none.
 */
export const keptStats = (keys: string) =>
  `SELECT ${statColumns}, arrayMap((key) -> trait_values[indexOf(trait_keys, key)], ${keys}) AS trait_values FROM survivor_stats FINAL WHERE ${notAbsorbed}`;

/**
 * Whether a roll-up newer than pass `after` (of a pass that failed before it became the latest) kept other trait keys
 * than `keys`: those survivors' rows lack some of them, and an incremental roll-up would not mend them all.
 */
export async function keptRowsLackKeys(client: ClickHouseClient, after: number, keys: string[]): Promise<boolean> {
  const result = await client.query(
    named('profiles.keptRowsLackKeys', {
      query:
        'SELECT count() AS lacking FROM (SELECT 1 FROM survivor_stats WHERE pass > {after:UInt64} AND NOT hasAll(trait_keys, {keys:Array(String)}) LIMIT 1)',
      query_params: { after, keys },
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ lacking: string | number }>();
  return Number(row?.lacking ?? 0) > 0;
}

/** ClickHouse's clock, which stamps the rows a roll-up looks for. */
export async function clickhouseNow(client: ClickHouseClient): Promise<string> {
  const result = await client.query(
    named('profiles.clickhouseNow', { query: "SELECT toString(now64(3, 'UTC')) AS now", format: 'JSONEachRow' }),
  );
  const [row] = await result.json<{ now: string }>();
  return row!.now;
}

/** What a roll-up covers: every survivor, those changed since a time, or the survivors named; and which trait keys. */
export interface RollUp {
  /** A ClickHouse time: only survivors with stored rows written at or after it; null for every survivor. */
  since: string | null;
  /** Only these survivors (a profile change record names them); `since` is then not read. */
  survivors?: string[];
  /** The trait keys to keep (only these are rolled up). */
  traitKeys: string[];
  /**
   * With `since`: change records are followed, so the survivors that a roll-up begun after their last write keeps are
   * skipped. Without following nothing rolls them up again after a write that one began too early to see.
   */
  followed?: boolean;
}

// A roll-up's rows are one per survivor already, so the insert skips the ReplacingMergeTree's sort-and-collapse of each
// block: 1.7 s less for 1M survivors.
const rollUpSettings = { optimize_on_insert: 0 } as const;
/**
 * What a roll-up of some survivors (those changed, those named) holds in its GROUP BY before it goes on on disk: under
 * steady load it runs beside everything else, and its survivors are as many as were active since the last pass. A
 * roll-up of everyone (a first pass, and hourly) does not spill: it would be slower (a spilled GROUP BY of the KPIs'
 * facts took 2.5 times as long as one in memory).
 */
const someRollUpSpillBytes = String(256 * 1024 * 1024);

/** Rolls up, under pass `pass`, the stats and the trait keys `roll` names. */
export async function rollUpSurvivors(client: ClickHouseClient, pass: number, roll: RollUp): Promise<void> {
  if (roll.followed && roll.since !== null && !roll.survivors) {
    const left = await rows<{ survivor: string }>(client, 'profiles.changedNotRolledUp', changedNotRolledUp, {
      rolledUpSince: roll.since,
      limit: namedRollUpLimit + 1,
    });
    if (left.length === 0) return;
    if (left.length <= namedRollUpLimit)
      return rollUpSurvivors(client, pass, { ...roll, survivors: left.map((row) => row.survivor) });
  }
  const everyone = !roll.survivors && roll.since === null;
  const stored = roll.survivors
    ? `profile_id IN ${storedIdsOfNamed}`
    : everyone
      ? '1'
      : `profile_id IN ${storedIdsOfChanged}`;
  await client.command(
    named('profiles.rollUpSurvivors', {
      query: rollUp(stored, roll.traitKeys.length),
      query_params: {
        pass,
        rolledUpSince: roll.since ?? '1970-01-01 00:00:00.000',
        traitKeys: roll.traitKeys,
        survivors: roll.survivors ?? [],
      },
      clickhouse_settings: everyone
        ? rollUpSettings
        : { ...rollUpSettings, max_bytes_before_external_group_by: someRollUpSpillBytes },
    }),
  );
}

/** The date stats a rule may measure back from now ("last seen within the last 30 days"). */
export const dateStatColumns = ['stat_first_seen', 'stat_last_seen', 'stat_last_order_at'] as const;
export type DateStatColumn = (typeof dateStatColumns)[number];

/** Instants [from, to) in epoch ms that a time boundary passed, of a date stat or a trait read as a date. */
export interface KeptCrossing {
  from: number;
  to: number;
  column?: DateStatColumn;
  trait?: string;
}

/**
 * The survivors whose kept date stat or trait (read as a rule reads a date) falls in a crossing's [from, to): a
 * condition "within the last D days" on it turned false for them between two instants, and for nobody else.
 */
export async function keptCrossing(client: ClickHouseClient, crossings: KeptCrossing[]): Promise<string[]> {
  if (crossings.length === 0) return [];
  const traitKeys = [
    ...new Set(crossings.flatMap((crossing) => (crossing.trait === undefined ? [] : [crossing.trait]))),
  ];
  const params: Record<string, unknown> = { traitKeys };
  const tests = crossings.map((crossing, index) => {
    params[`from${index}`] = toClickHouseTime(crossing.from);
    params[`to${index}`] = toClickHouseTime(crossing.to);
    const range = (value: string) =>
      `ifNull(${value} >= {from${index}:DateTime64(3, 'UTC')} AND ${value} < {to${index}:DateTime64(3, 'UTC')}, 0)`;
    if (crossing.column !== undefined) {
      if (!dateStatColumns.includes(crossing.column)) throw new Error(`not a date stat: ${String(crossing.column)}`);
      return range(crossing.column);
    }
    const raw = `trait_values[${traitKeys.indexOf(crossing.trait ?? '') + 1}]`;
    return `(JSONType(${raw}) = 'String' AND ${range(`parseDateTime64BestEffortOrNull(JSONExtractString(${raw}), 3, 'UTC')`)})`;
  });
  const found = await rows<{ profile_id: string }>(
    client,
    'profiles.keptCrossing',
    `SELECT profile_id FROM (${keptStats('{traitKeys:Array(String)}')}) WHERE ${tests.join(' OR ')}`,
    params,
  );
  return found.map((row) => row.profile_id);
}
