// A segment's audience: its current members with their identifiers and chosen traits, by page or streamed whole.
import type { Readable } from 'node:stream';
import type { ClickHouseClient } from '@cdp/runtime';

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

const survivorMap = '(SELECT loser_id, survivor_id FROM profile_merges FINAL)';

/** Members in profile id order; a page starts after the cursor's profile id and stops at its limit. */
const membersOf = (paged: boolean) => `
  SELECT profile_id FROM segment_membership FINAL
  WHERE segment_id = {segmentId:String} AND is_member = 1${paged ? ' AND profile_id > {after:String}' : ''}
  ORDER BY profile_id${paged ? ' LIMIT {limit:UInt32}' : ''}`;

// Identifiers and traits are stored per profile id; both roll up to the survivor, only for the members asked for.
const audienceQuery = (paged: boolean) => `
  SELECT
    member.profile_id AS profile_id,
    identity.user_ids AS user_ids, identity.emails AS emails, identity.phones AS phones, identity.anonymous_ids AS anonymous_ids,
    trait.keys AS trait_keys, trait.values AS trait_values
  FROM (${membersOf(paged)}) AS member
  LEFT JOIN (
    SELECT survivor,
      arraySort(groupArrayIf(value, type = 'user_id')) AS user_ids, arraySort(groupArrayIf(value, type = 'email')) AS emails,
      arraySort(groupArrayIf(value, type = 'phone')) AS phones, arraySort(groupArrayIf(value, type = 'anonymous_id')) AS anonymous_ids
    FROM (
      SELECT known.type AS type, known.value AS value, if(merge.survivor_id = '', known.profile_id, merge.survivor_id) AS survivor
      FROM (SELECT type, value, profile_id FROM identities FINAL) AS known LEFT JOIN ${survivorMap} AS merge ON known.profile_id = merge.loser_id
    )
    WHERE survivor IN (${membersOf(paged)})
    GROUP BY survivor
  ) AS identity ON identity.survivor = member.profile_id
  LEFT JOIN (
    SELECT survivor, groupArray(key) AS keys, groupArray(latest) AS values
    FROM (
      SELECT if(merge.survivor_id = '', stored.profile_id, merge.survivor_id) AS survivor, stored.key AS key, argMaxMerge(stored.value) AS latest
      FROM (SELECT profile_id, key, value FROM profile_traits WHERE key IN {traitKeys:Array(String)}) AS stored
      LEFT JOIN ${survivorMap} AS merge ON stored.profile_id = merge.loser_id
      GROUP BY survivor, key
    )
    WHERE survivor IN (${membersOf(paged)})
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
    query: audienceQuery(true),
    query_params: { segmentId: options.segmentId, after: options.after, limit: options.limit + 1, traitKeys: options.traitKeys },
    format: 'JSONEachRow',
  });
  const rows = await result.json<AudienceRow>();
  const members = rows.slice(0, options.limit).map(toMember);
  const last = members[members.length - 1];
  return { members, nextCursor: rows.length > options.limit && last ? encodeAudienceCursor(last.profileId) : null };
}

/** Every member, streamed from ClickHouse as it is read: the caller's pace (backpressure) sets the pace of the query. */
export async function* streamAudience(client: ClickHouseClient, options: { segmentId: string; traitKeys: string[] }): AsyncGenerator<AudienceMember> {
  const result = await client.query({
    query: audienceQuery(false),
    query_params: { segmentId: options.segmentId, traitKeys: options.traitKeys },
    format: 'JSONEachRow',
  });
  const stream: Readable = result.stream<AudienceRow>();
  for await (const rows of stream as AsyncIterable<Array<{ json(): AudienceRow }>>) {
    for (const row of rows) yield toMember(row.json());
  }
}
