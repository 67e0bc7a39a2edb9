// Segment membership (segment_membership, migration 0005), the one place it is read or written: a profile is a member
// of a segment while its latest row (the highest version, which FINAL keeps) says is_member = 1.
import { named, type ClickHouseClient } from '@cdp/runtime';
import { rows } from './rows';
import { joinSurvivors, survivorOf } from './survivors';

// The latest membership row of each (segment, profile) passing `where`, member or not.
const latestRows = (where: string) =>
  `(SELECT segment_id, profile_id, is_member, entered_at, version FROM segment_membership FINAL WHERE ${where})`;

/**
 * The latest membership row of each profile for the segment named by the query parameter `segmentParam` (e.g.
 * `{segmentId:String}`), member or not: `segment_id`, `profile_id`, `is_member`, `entered_at` (when its current stay
 * began) and `version` (of the evaluation that decided it). `profilesParam`, an `Array(String)` parameter, limits it.
 */
export const decisionsOf = (segmentParam: string, profilesParam?: string) =>
  latestRows(`segment_id = ${segmentParam}${profilesParam ? ` AND profile_id IN ${profilesParam}` : ''}`);

/** The same for several segments (an `Array(String)` parameter), limited to `profilesParam` if given. */
export const decisionsOfMany = (segmentsParam: string, profilesParam?: string) =>
  latestRows(`segment_id IN ${segmentsParam}${profilesParam ? ` AND profile_id IN ${profilesParam}` : ''}`);

/**
 * Whether any of the segments (ids) has a membership row, member or not: none has until its first evaluation stores
 * its changes.
 */
export async function anyDecided(client: ClickHouseClient, segmentIds: string[]): Promise<boolean> {
  const [row] = await rows<{ decided: number | string }>(
    client,
    'profiles.anyDecided',
    'SELECT count() AS decided FROM (SELECT 1 FROM segment_membership WHERE segment_id IN {segmentIds:Array(String)} LIMIT 1)',
    { segmentIds },
  );
  return Number(row?.decided ?? 0) > 0;
}

// The latest rows passing `where` that say "member": the one rule of membership.
const memberRows = (where: string) => `(SELECT * FROM ${latestRows(where)} WHERE is_member = 1)`;

/** The current members of the segment (`profile_id` as last evaluated, `entered_at`, `version`). */
export const membersOf = (segmentParam: string) =>
  `(SELECT profile_id, entered_at, version FROM ${memberRows(`segment_id = ${segmentParam}`)})`;

/**
 * The current members as survivors now: a merge after the segment was last evaluated is followed, so a member is
 * never lost to it (for counting; an absorbed member and its survivor are one profile).
 */
export const membersAsSurvivors = (segmentParam: string) => `
  SELECT ${survivorOf('member.profile_id')}
  FROM ${membersOf(segmentParam)} AS member
  ${joinSurvivors('member.profile_id')}`;

/** Ids of segments with at least one current member. */
export const segmentsWithMembers = `(SELECT DISTINCT segment_id FROM ${memberRows('1')})`;

/** Current member count per segment id. */
export async function segmentSizes(client: ClickHouseClient): Promise<Map<string, number>> {
  const sizes = await rows<{ segment_id: string; size: number }>(
    client,
    'profiles.segmentSizes',
    `SELECT segment_id, count() AS size FROM ${memberRows('1')} GROUP BY segment_id`,
  );
  return new Map(sizes.map((row) => [row.segment_id, Number(row.size)]));
}

/** Ids of the segments among `segmentIds` the survivor profile is a member of now, sorted. */
export const segmentsOf = async (
  client: ClickHouseClient,
  profileId: string,
  segmentIds: string[],
): Promise<string[]> => (await segmentsOfMany(client, [profileId], segmentIds)).get(profileId)!;

/** Per survivor profile, the ids of the segments among `segmentIds` it is a member of now, sorted. */
export async function segmentsOfMany(
  client: ClickHouseClient,
  profileIds: string[],
  segmentIds: string[],
): Promise<Map<string, string[]>> {
  const segments = new Map(profileIds.map((profileId): [string, string[]] => [profileId, []]));
  if (profileIds.length === 0 || segmentIds.length === 0) return segments;
  const found = await rows<{ profile_id: string; segment_id: string }>(
    client,
    'profiles.segmentsOf',
    `SELECT profile_id, segment_id FROM ${memberRows('profile_id IN {profileIds:Array(String)} AND segment_id IN {segmentIds:Array(String)}')}
     ORDER BY profile_id, segment_id`,
    { profileIds, segmentIds },
  );
  for (const row of found) segments.get(row.profile_id)?.push(row.segment_id);
  return segments;
}

/**
 * Stores membership changes: `changes` is a relation of (segment_id, profile_id, is_member, entered_at), written as
 * rows of version `{version:UInt64}` changed at `{now:DateTime64(3, 'UTC')}`; `params` binds those and the relation's.
 */
export async function storeMembershipChanges(
  client: ClickHouseClient,
  changes: string,
  params: Record<string, unknown>,
): Promise<void> {
  await client.command(
    named('profiles.storeMembershipChanges', {
      query: `INSERT INTO segment_membership (segment_id, profile_id, is_member, entered_at, changed_at, version)
      SELECT segment_id, profile_id, is_member, entered_at, {now:DateTime64(3, 'UTC')}, {version:UInt64} FROM ${changes}`,
      query_params: params,
    }),
  );
}

/** Per segment id, the profiles that entered and left it in the evaluation of version `version`. */
export async function movementsOf(
  client: ClickHouseClient,
  version: number,
): Promise<Map<string, { entered: number; exited: number }>> {
  // An evaluation stores its changes as rows of its version; a retried store writes the same rows again.
  const result = await client.query(
    named('profiles.readMovements', {
      query: `SELECT segment_id, uniqExactIf(profile_id, is_member = 1) AS entered, uniqExactIf(profile_id, is_member = 0) AS exited
      FROM segment_membership WHERE version = {version:UInt64} GROUP BY segment_id`,
      query_params: { version },
      format: 'JSONEachRow',
    }),
  );
  const rows = await result.json<{ segment_id: string; entered: number; exited: number }>();
  return new Map(rows.map((row) => [row.segment_id, { entered: Number(row.entered), exited: Number(row.exited) }]));
}
