// A segment's audience: its current members with their identifiers and chosen traits, by page or streamed whole.
import { named, pagesInKeyOrder, type ClickHouseClient } from '@cdp/runtime';
import { membersOf } from './membership';
import { latestTraitsOfSurvivors, parseTraitValue } from './stats';
import { subscribersOf, type SubscriptionChannel } from './subscriptions';
import { absorbedBy, joinSurvivors, survivorOf } from './survivors';

export interface AudienceMember {
  profileId: string;
  userId: string | null;
  emails: string[];
  phones: string[];
  anonymousIds: string[];
  traits: Record<string, unknown>;
}

/** profile id, user ids, emails, phones, anonymous ids, (trait key, raw JSON value) in the order the keys were asked. */
type AudienceRow = [string, string[], string[], string[], string[], Array<[string, string]>];

/** What an audience read names: the segment, the traits to include, and optionally the channel members must be subscribed to. */
export interface AudienceOptions {
  segmentId: string;
  traitKeys: string[];
  /** Only members whose latest state for this channel (over every profile they absorbed) is `subscribed`. */
  subscribedTo?: SubscriptionChannel;
}

/**
 * Members in profile id order; a page starts after the cursor's profile id and stops at its limit. Without a channel
 * the condition on it is constant and ClickHouse does not read the subscriptions at all.
 */
const membersPage = `
  SELECT profile_id FROM ${membersOf('{segmentId:String}')}
  WHERE profile_id > {after:String} AND ({subscribedTo:String} = '' OR profile_id IN (${subscribersOf('{subscribedTo:String}')}))
  ORDER BY profile_id LIMIT {limit:UInt32}`;

/** The query parameters of an audience read: no channel is ''. */
export const audienceParams = (options: AudienceOptions) => ({
  segmentId: options.segmentId,
  traitKeys: options.traitKeys,
  subscribedTo: options.subscribedTo ?? '',
});

// The stored profile ids behind a page: its members and every id they absorbed. profile_identifiers and profile_traits
// are keyed by profile id first, and a page's members are consecutive in profile id order, so the primary key finds
// their granules from these sets alone (a sparse segment's members are spread over most of them).
const pageIds = `
  WITH
    members AS (${membersPage}),
    absorbed AS ${absorbedBy('members')}`;
const storedRowsOfPage = '(profile_id IN members OR profile_id IN absorbed)';

/** A survivor's identifiers of one type: each once (an absorbed profile keeps its rows), sorted. */
const identifiersOf = (type: string) => `arraySort(arrayDistinct(groupArrayIf(value, type = '${type}')))`;

// Identifiers and traits are stored per profile id; both roll up to the survivor (0018 says why the identifiers of
// profile_identifiers, deduplicated per survivor, are exactly those of identities). A member without either gets empty
// arrays. `columns` reads `member.profile_id`, `identity.{user_ids, emails, phones, anonymous_ids}` (sorted) and
// `trait.keys` / `trait.values` (the raw JSON values, in no particular order).
export const audienceQuery = (columns: string) => `
  ${pageIds}
  SELECT ${columns}
  FROM members AS member
  LEFT JOIN (
    SELECT survivor, ${identifiersOf('user_id')} AS user_ids, ${identifiersOf('email')} AS emails,
      ${identifiersOf('phone')} AS phones, ${identifiersOf('anonymous_id')} AS anonymous_ids
    FROM (
      SELECT known.type AS type, known.value AS value, ${survivorOf('known.profile_id')} AS survivor
      FROM (SELECT profile_id, type, value FROM profile_identifiers WHERE ${storedRowsOfPage}) AS known
      ${joinSurvivors('known.profile_id')}
    )
    GROUP BY survivor
  ) AS identity ON identity.survivor = member.profile_id
  LEFT JOIN (
    SELECT survivor, groupArray(key) AS keys, groupArray(latest) AS values
    FROM (${latestTraitsOfSurvivors(`key IN {traitKeys:Array(String)} AND ${storedRowsOfPage}`)})
    GROUP BY survivor
  ) AS trait ON trait.survivor = member.profile_id
  ORDER BY member.profile_id`;

/** Members with their traits as (key, raw JSON value) in the order the keys were asked for. */
const membersQuery =
  audienceQuery(`member.profile_id, identity.user_ids, identity.emails, identity.phones, identity.anonymous_ids,
  arraySort((pair) -> indexOf({traitKeys:Array(String)}, pair.1), arrayZip(trait.keys, trait.values))`);

function toMember([profileId, userIds, emails, phones, anonymousIds, pairs]: AudienceRow): AudienceMember {
  const traits: Record<string, unknown> = {};
  for (const [key, value] of pairs) traits[key] = parseTraitValue(value);
  return { profileId, userId: userIds[0] ?? null, emails, phones, anonymousIds, traits };
}

export interface AudiencePage {
  members: AudienceMember[];
  nextCursor: string | null;
}

export const encodeAudienceCursor = (profileId: string) => Buffer.from(profileId, 'utf8').toString('base64url');
export const decodeAudienceCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

export async function readAudiencePage(
  client: ClickHouseClient,
  options: AudienceOptions & { after: string; limit: number },
): Promise<AudiencePage> {
  const result = await client.query(
    named('profiles.readAudiencePage', {
      query: membersQuery,
      query_params: { ...audienceParams(options), after: options.after, limit: options.limit + 1 },
      format: 'JSONCompactEachRow',
    }),
  );
  const rows = await result.json<AudienceRow>();
  const members = rows.slice(0, options.limit).map(toMember);
  const last = members[members.length - 1];
  return { members, nextCursor: rows.length > options.limit && last ? encodeAudienceCursor(last.profileId) : null };
}

/** Members a stream reads at a time: a page's roll-up in ClickHouse takes about 2 KB of working memory a member. */
export const streamPageSize = 100_000;

/** Every member, page by page in profile id order; each member comes once, as its page found the membership. */
export async function* streamAudience(
  client: ClickHouseClient,
  options: AudienceOptions,
): AsyncGenerator<AudienceMember> {
  const read = async (after: string, limit: number) =>
    (await readAudiencePage(client, { ...options, after, limit })).members;
  for await (const members of pagesInKeyOrder(read, (member) => member.profileId, streamPageSize)) yield* members;
}
