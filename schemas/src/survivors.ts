// Profile rows are stored under the profile id they had when written; reads follow profile_merges to the survivor.

/** Stored profile id → its final survivor; ids never merged are not in it (a LEFT JOIN then gives ''). */
const survivorMap = '(SELECT loser_id, survivor_id FROM profile_merges FINAL)';

/** `LEFT JOIN` of the survivor map, as `merge`, on a stored profile id column; `survivorOf` then reads it. */
export const joinSurvivors = (storedId: string) => `LEFT JOIN ${survivorMap} AS merge ON ${storedId} = merge.loser_id`;

/** The survivor profile of a stored profile id column, after `joinSurvivors` of the same column. */
export const survivorOf = (storedId: string) => `if(merge.survivor_id = '', ${storedId}, merge.survivor_id)`;
