// The survivor map, the one place it is written: profile rows are stored under the profile id they had when written,
// and every read follows profile_merges (loser → final survivor, one row per loser) to the survivor.
import type { ClickHouseClient } from '@cdp/runtime';
import { rows } from './rows';

/** Stored profile id → its final survivor; ids never merged are not in it (a LEFT JOIN then gives ''). */
const survivorMap = '(SELECT loser_id, survivor_id FROM profile_merges FINAL)';

/** `LEFT JOIN` of the survivor map, as `merge`, on a stored profile id column; `survivorOf` then reads it. */
export const joinSurvivors = (storedId: string) => `LEFT JOIN ${survivorMap} AS merge ON ${storedId} = merge.loser_id`;

/**
 * `joinSurvivors` for a known few stored ids: the map is read only for `ids` (a parameter or subquery of stored ids),
 * through the primary key, instead of whole.
 */
export const joinSurvivorsAmong = (storedId: string, ids: string) =>
  `LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL WHERE loser_id IN ${ids}) AS merge ON ${storedId} = merge.loser_id`;

/** The survivor profile of a stored profile id column, after `joinSurvivors` of the same column. */
export const survivorOf = (storedId: string) => `if(merge.survivor_id = '', ${storedId}, merge.survivor_id)`;

/**
 * Stored ids some merge touched, as loser or survivor: only their rows need mapping to survivors and combining; every
 * other profile is its own survivor. Unmerged, so it also holds a loser whose merge rows are not collapsed yet.
 */
export const mergedIds = '(SELECT loser_id FROM profile_merges UNION ALL SELECT survivor_id FROM profile_merges)';

/** A condition on `profile_id`: not absorbed by a merge (rows kept per survivor leave an absorbed one's behind). */
export const notAbsorbed = 'profile_id NOT IN (SELECT loser_id FROM profile_merges)';

/** The stored ids a set of survivors absorbed (`survivors` is a subquery or a parameter of survivor ids). */
export const absorbedBy = (survivors: string) =>
  `(SELECT loser_id FROM profile_merges FINAL WHERE survivor_id IN ${survivors})`;

/**
 * The current merge rows (`loser_id`, `survivor_id`) of the ids a known few survivors absorbed (`survivors`, a
 * parameter): the losers any row ever pointed at them, from two columns read without FINAL, then only those losers'
 * rows collapsed, through the primary key, instead of the whole map (a loser pointed elsewhere since drops out there).
 * A parameter is read twice at no cost, where a subquery would run twice: subqueries take `absorbedBy`.
 */
const absorbedRowsOfFew = (survivors: string) =>
  `(SELECT loser_id, survivor_id FROM profile_merges FINAL
    WHERE loser_id IN (SELECT loser_id FROM profile_merges WHERE survivor_id IN ${survivors})
      AND survivor_id IN ${survivors})`;

/** `absorbedBy` for a known few survivors (a parameter), as `absorbedRowsOfFew` finds them. */
export const absorbedByFew = (survivors: string) => `(SELECT loser_id FROM ${absorbedRowsOfFew(survivors)})`;

/**
 * Per survivor, `aggregate` over messages: `rows` (a relation of `message_id`, `profile_id`, `inserted_at` and what
 * `firstCopy` reads) counted each messageId once, on its first stored copy's survivor. A retry repeats its message,
 * so every copy matches alike: keeping the first of the matching rows picks the same copy while grouping only those
 * rows instead of sorting every stored event. `firstCopy` adds columns of that copy, e.g. `, argMin(x, inserted_at) AS x`.
 */
export const messagesPerSurvivor = (rows: string, firstCopy: string, aggregate: string) => `
  SELECT ${survivorOf('message.stored_id')} AS survivor, ${aggregate}
  FROM (SELECT message_id, argMin(profile_id, inserted_at) AS stored_id${firstCopy} FROM (${rows}) GROUP BY message_id) AS message
  ${joinSurvivors('message.stored_id')}
  GROUP BY survivor`;

/** The survivor of each stored id, in one read: itself when no merge absorbed it. */
export async function survivorsOfStored(client: ClickHouseClient, storedIds: string[]): Promise<string[]> {
  if (storedIds.length === 0) return [];
  const found = await rows<{ stored: string; survivor: string }>(
    client,
    'profiles.survivorsOfStored',
    `SELECT stored.id AS stored, ${survivorOf('stored.id')} AS survivor
     FROM (SELECT arrayJoin({storedIds:Array(String)}) AS id) AS stored
     ${joinSurvivorsAmong('stored.id', '{storedIds:Array(String)}')}`,
    { storedIds },
  );
  const survivors = new Map(found.map((row) => [row.stored, row.survivor]));
  return storedIds.map((id) => survivors.get(id) ?? id);
}

/** Each survivor's stored ids, in one read: itself first, then the profiles it absorbed. */
export async function storedIdsOfMany(client: ClickHouseClient, survivors: string[]): Promise<Map<string, string[]>> {
  const stored = new Map(survivors.map((survivor) => [survivor, [survivor]]));
  if (survivors.length === 0) return stored;
  const absorbed = await rows<{ survivor_id: string; loser_id: string }>(
    client,
    'profiles.absorbedIdsOfMany',
    `SELECT DISTINCT survivor_id, loser_id FROM ${absorbedRowsOfFew('{survivors:Array(String)}')}
     WHERE loser_id NOT IN {survivors:Array(String)}`,
    { survivors },
  );
  for (const row of absorbed) stored.get(row.survivor_id)?.push(row.loser_id);
  return stored;
}

/**
 * Many survivors' stored ids as two aligned query parameters, `stored` and `owners` (the survivor of each), for
 * reads that roll up several survivors at once: `ownerOf` names a stored id column's survivor.
 */
export function ownedIds(storedIds: Map<string, string[]>): { stored: string[]; owners: string[] } {
  const stored: string[] = [];
  const owners: string[] = [];
  for (const [owner, ids] of storedIds)
    for (const id of ids) {
      stored.push(id);
      owners.push(owner);
    }
  return { stored, owners };
}

/** The survivor owning a stored id column, under the parameters of `ownedIds` (rows are limited to `stored`). */
export const ownerOf = (storedId: string) =>
  `transform(${storedId}, {stored:Array(String)}, {owners:Array(String)}, '')`;

/** The stored ids the survivors absorbed (not the survivors themselves), each once. */
export async function absorbedIdsOf(client: ClickHouseClient, survivors: string[]): Promise<string[]> {
  if (survivors.length === 0) return [];
  const absorbed = await rows<{ loser_id: string }>(
    client,
    'profiles.absorbedIdsOf',
    `SELECT DISTINCT loser_id FROM ${absorbedByFew('{survivors:Array(String)}')} WHERE loser_id NOT IN {survivors:Array(String)}`,
    { survivors },
  );
  return absorbed.map((row) => row.loser_id);
}

/** The survivor of a stored profile id: itself when no merge absorbed it. */
export const survivorOfStored = async (client: ClickHouseClient, storedId: string): Promise<string> =>
  (await survivorsOfStored(client, [storedId]))[0]!;

/** Every stored profile id whose rows belong to the survivor: itself first, then the profiles it absorbed. */
export const storedIdsOf = async (client: ClickHouseClient, survivorId: string): Promise<string[]> => [
  survivorId,
  ...(await absorbedIdsOf(client, [survivorId])),
];
