// A segment's audience: its current members with their identifiers and chosen traits, by page or streamed whole.
import type { ClickHouseClient } from '@cdp/runtime';
import { pagesInKeyOrder } from './pages';
import { joinSurvivors, survivorOf } from '@cdp/schemas';
import { latestTraitsOfSurvivors } from './survivors';

export interface AudienceMember {
  profileId: string;
  userId: string | null;
  emails: string[];
  phones: string[];
  anonymousIds: string[];
  traits: Record<string, unknown>;
}

interface AudienceRow {
  profile_id: string;
  user_ids: string[];
  emails: string[];
  phones: string[];
  anonymous_ids: string[];
  trait_keys: string[];
  trait_values: string[];
}

/** Members in profile id order; a page starts after the cursor's profile id and stops at its limit. */
const membersPage = `
  SELECT profile_id FROM segment_membership FINAL
  WHERE segment_id = {segmentId:String} AND is_member = 1 AND profile_id > {after:String}
  ORDER BY profile_id LIMIT {limit:UInt32}`;

/** The stored profile ids behind the page's members: the members themselves and every id they absorbed. */
const storedIdsOfPage = `(SELECT profile_id FROM (${membersPage}) UNION ALL SELECT loser_id FROM profile_merges FINAL WHERE survivor_id IN (${membersPage}))`;

// Identifiers and traits are stored per profile id; both roll up to the survivor, read only for the page's stored ids
// (traits through their primary key; identities, keyed by identifier, are scanned once a page).
const audienceQuery = `
  SELECT
    member.profile_id AS profile_id,
    identity.user_ids AS user_ids, identity.emails AS emails, identity.phones AS phones, identity.anonymous_ids AS anonymous_ids,
    trait.keys AS trait_keys, trait.values AS trait_values
  FROM (${membersPage}) AS member
  LEFT JOIN (
    SELECT survivor,
      arraySort(groupArrayIf(value, type = 'user_id')) AS user_ids, arraySort(groupArrayIf(value, type = 'email')) AS emails,
      arraySort(groupArrayIf(value, type = 'phone')) AS phones, arraySort(groupArrayIf(value, type = 'anonymous_id')) AS anonymous_ids
    FROM (
      SELECT known.type AS type, known.value AS value, ${survivorOf('known.profile_id')} AS survivor
      FROM (SELECT type, value, profile_id FROM identities FINAL WHERE profile_id IN ${storedIdsOfPage}) AS known
      ${joinSurvivors('known.profile_id')}
    )
    GROUP BY survivor
  ) AS identity ON identity.survivor = member.profile_id
  LEFT JOIN (
    SELECT survivor, groupArray(key) AS keys, groupArray(latest) AS values
    FROM (${latestTraitsOfSurvivors(`key IN {traitKeys:Array(String)} AND profile_id IN ${storedIdsOfPage}`)})
    GROUP BY survivor
  ) AS trait ON trait.survivor = member.profile_id
  ORDER BY profile_id`;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

function toMember(row: AudienceRow): AudienceMember {
  const traits: Record<string, unknown> = {};
  row.trait_keys.forEach((key, index) => {
    traits[key] = parseJson(row.trait_values[index] ?? 'null');
  });
  return { profileId: row.profile_id, userId: row.user_ids[0] ?? null, emails: row.emails, phones: row.phones, anonymousIds: row.anonymous_ids, traits };
}

export interface AudiencePage {
  members: AudienceMember[];
  nextCursor: string | null;
}

export const encodeAudienceCursor = (profileId: string) => Buffer.from(profileId, 'utf8').toString('base64url');
export const decodeAudienceCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

export async function readAudiencePage(
  client: ClickHouseClient,
  options: { segmentId: string; after: string; limit: number; traitKeys: string[] },
): Promise<AudiencePage> {
  const result = await client.query({
    query: audienceQuery,
    query_params: { segmentId: options.segmentId, after: options.after, limit: options.limit + 1, traitKeys: options.traitKeys },
    format: 'JSONEachRow',
  });
  const rows = await result.json<AudienceRow>();
  const members = rows.slice(0, options.limit).map(toMember);
  const last = members[members.length - 1];
  return { members, nextCursor: rows.length > options.limit && last ? encodeAudienceCursor(last.profileId) : null };
}

/** Members a stream reads at a time: a page's cost is mostly one scan of identities, its memory a few MB. */
const streamPageSize = 100_000;

/** Every member, page by page in profile id order; each member comes once, as its page found the membership. */
export async function* streamAudience(client: ClickHouseClient, options: { segmentId: string; traitKeys: string[] }): AsyncGenerator<AudienceMember> {
  const read = async (after: string, limit: number) => (await readAudiencePage(client, { ...options, after, limit })).members;
  for await (const members of pagesInKeyOrder(read, (member) => member.profileId, streamPageSize)) yield* members;
}
