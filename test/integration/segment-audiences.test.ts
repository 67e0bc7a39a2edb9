// Audiences: cursor pages, NDJSON and CSV streams all hold exactly the members with their identifiers and chosen traits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, toClickHouseTime, waitFor } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import { generateStoredProfiles, hostileText, insertStoredProfiles } from '../generators/stored-profiles';
import { referenceMembers, referenceProfiles } from '../reference/segment-rules';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

const data = generateStoredProfiles({ profiles: 60, seed: 17, prefix: uniqueName('aud') });
const rule: SegmentRule = {
  or: [
    { stat: 'orders', gte: 1 },
    { trait: 'nickname', equals: hostileText },
  ],
};
const traitKeys = ['plan', 'vip', 'nickname'];

/** A phone number with every character CSV or ClickHouse's text formats escape. */
const phoneOf = (profileId: string) => `+1 "${profileId}",\t\\;\r\n`;

/**
 * Identifiers stored per stored profile id, as the resolver writes them; the survivor gets the user id, email and
 * phone. An absorbed profile's device is then linked again to its survivor (a newer version), as the resolver does
 * after a merge.
 */
function identitiesOf(storedIds: string[], merges: Map<string, string>) {
  return storedIds.flatMap((storedId) => {
    const survivor = merges.get(storedId);
    return [
      { type: 'anonymous_id', value: `${storedId}-device`, profile_id: storedId, version: 1 },
      ...(survivor === undefined
        ? [
            { type: 'user_id', value: `${storedId}-user`, profile_id: storedId, version: 1 },
            { type: 'email', value: `${storedId}@example.com`, profile_id: storedId, version: 1 },
            { type: 'phone', value: phoneOf(storedId), profile_id: storedId, version: 1 },
          ]
        : [{ type: 'anonymous_id', value: `${storedId}-device`, profile_id: survivor, version: 2 }]),
    ];
  });
}

/** Trait values as a client may send their JSON: many are not how JavaScript writes the value it reads. */
const rawTraitValues = [
  '1.0',
  '1e3',
  '-0',
  '12345678901234567890',
  '9007199254740993',
  '1e21',
  '0.10',
  '"\\u00e9t\\u00e9"',
  '"tab\\tthere"',
  '"say \\"hi\\", ok"',
  '"a,b"',
  '{ "b": [1, 2.50], "a": null }',
  '[]',
  'true',
  'null',
  '""',
  '"plain"',
  '42',
  '"line\\nbreak"',
];

/**
 * The CSV of an expected member (a second, plainer writing of the export's rules): a cell that starts like a formula
 * (=, +, -, @, tab, carriage return) gets a leading quote unless every `;`-joined part is a number; then RFC 4180 quoting.
 */
function csvOf(member: Record<string, unknown>, traitKeys: string[]): string {
  const safe = (text: string) =>
    text !== '' &&
    '=+-@\t\r'.includes(text.charAt(0)) &&
    !text.split(';').every((part) => /^[+-]?\d+([.,]\d+)?$/.test(part))
      ? `'${text}`
      : text;
  const quote = (text: string) =>
    text.includes('"') || text.includes(',') || text.includes('\n') || text.includes('\r')
      ? `"${text.split('"').join('""')}"`
      : text;
  const traits = member.traits as Record<string, unknown>;
  const text = (value: unknown) =>
    value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  const list = (key: string) => (member[key] as string[]).join(';');
  return [
    member.profileId as string,
    (member.userId as string | null) ?? '',
    list('emails'),
    list('phones'),
    list('anonymousIds'),
    ...traitKeys.map((key) => text(traits[key])),
  ]
    .map((cell) => quote(safe(cell)))
    .join(',');
}

describe('segment audiences', () => {
  let cdp: TestPlatform;
  let expected: Array<Record<string, unknown>>;
  let segmentId: string;
  const get = (path: string, accept = 'application/json') =>
    fetch(`${cdp.url}${path}`, { headers: { authorization: `Bearer ${cdp.readKey}`, accept } });

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded');
    const client = cdp.platform.clickhouse.client;
    await insertStoredProfiles(client, data);
    const profiles = referenceProfiles(data.messages, data.merges);
    const storedIds = [...profiles.map((profile) => profile.profileId), ...data.merges.keys()];
    await client.insert(
      named('test.insertIdentities', {
        table: 'identities',
        values: identitiesOf(storedIds, data.merges),
        format: 'JSONEachRow',
      }),
    );

    const members = new Set(referenceMembers(rule, profiles, Date.now()));
    expected = profiles
      .filter((profile) => members.has(profile.profileId))
      .sort((a, b) => (a.profileId < b.profileId ? -1 : 1))
      .map((profile) => {
        const absorbed = [...data.merges]
          .filter(([, survivor]) => survivor === profile.profileId)
          .map(([loser]) => loser);
        return {
          profileId: profile.profileId,
          userId: `${profile.profileId}-user`,
          emails: [`${profile.profileId}@example.com`],
          phones: [phoneOf(profile.profileId)],
          anonymousIds: [profile.profileId, ...absorbed].map((id) => `${id}-device`).sort(),
          traits: Object.fromEntries(
            traitKeys.filter((key) => key in profile.traits).map((key) => [key, profile.traits[key]]),
          ),
        };
      });

    // A trait `raw` on the first members, each written as the raw JSON text a client sent.
    await client.insert(
      named('test.insertRawTraits', {
        table: 'events',
        values: expected.slice(0, rawTraitValues.length).map((member, index) => ({
          message_id: `${member.profileId}-raw`,
          profile_id: member.profileId,
          type: 'identify',
          event: '',
          name: '',
          user_id: '',
          anonymous_id: '',
          group_id: '',
          previous_id: '',
          timestamp: toClickHouseTime(data.now),
          original_timestamp: null,
          sent_at: null,
          received_at: toClickHouseTime(data.now),
          channel: 'unknown',
          source: 'test',
          properties: '{}',
          traits: `{"raw": ${rawTraitValues[index]}}`,
          context: '{}',
        })),
        format: 'JSONEachRow',
      }),
    );

    const created = await fetch(`${cdp.url}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Audience', rule }),
    });
    segmentId = ((await created.json()) as { id: string }).id;
    await waitFor(
      async () =>
        ((await (await get(`/v1/segments/${segmentId}`)).json()) as { size: number }).size === expected.length,
      {
        timeoutMs: 30_000,
        what: 'the segment to be evaluated',
      },
    );
  }, 180_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('pages through every member once, in order, with identifiers and the chosen traits', async () => {
    const pages: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const response = await get(
        `/v1/segments/${segmentId}/members?limit=7&traits=${traitKeys.join(',')}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      const page = (await response.json()) as { members: Array<Record<string, unknown>>; nextCursor: string | null };
      expect(page.members.length).toBeLessThanOrEqual(7);
      pages.push(...page.members);
      cursor = page.nextCursor;
    } while (cursor);
    expect(expected.length).toBeGreaterThan(20);
    expect(pages).toEqual(expected);
    expect(pages.some((member) => (member.traits as Record<string, unknown>).nickname === hostileText)).toBe(true);
  });

  it('streams the whole audience as NDJSON, one member a line', async () => {
    const response = await get(
      `/v1/segments/${segmentId}/members?traits=${traitKeys.join(',')}`,
      'application/x-ndjson',
    );
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await response.text()).split('\n').filter(Boolean);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(expected);
  });

  it('streams the whole audience as CSV with quoted fields where needed', async () => {
    const response = await get(`/v1/segments/${segmentId}/members?traits=plan,nickname`, 'text/csv');
    expect(response.headers.get('content-type')).toContain('text/csv');
    const text = await response.text();
    const header = 'profileId,userId,emails,phones,anonymousIds,trait:plan,trait:nickname';
    expect(text).toBe(
      [header, ...expected.map((member) => csvOf(member, ['plan', 'nickname']))].map((line) => `${line}\r\n`).join(''),
    );
    expect(text).toContain(`,"${hostileText.replaceAll('"', '""')}"\r\n`);
  });

  it('writes a trait as JavaScript reads its stored JSON, in CSV and NDJSON alike', async () => {
    const withRaw = expected.map((member, index) => {
      const raw = rawTraitValues[index];
      return { ...member, traits: raw === undefined ? {} : { raw: JSON.parse(raw) as unknown } };
    });
    const csv = await (await get(`/v1/segments/${segmentId}/members?traits=raw`, 'text/csv')).text();
    expect(csv).toBe(
      ['profileId,userId,emails,phones,anonymousIds,trait:raw', ...withRaw.map((member) => csvOf(member, ['raw']))]
        .map((line) => `${line}\r\n`)
        .join(''),
    );
    const ndjson = await (await get(`/v1/segments/${segmentId}/members?traits=raw`, 'application/x-ndjson')).text();
    expect(ndjson).toBe(withRaw.map((member) => `${JSON.stringify(member)}\n`).join(''));
  });

  it('refuses bad parameters and unknown segments', async () => {
    expect((await get(`/v1/segments/${segmentId}/members?limit=0`)).status).toBe(400);
    expect(
      (
        await get(
          `/v1/segments/${segmentId}/members?traits=${Array.from({ length: 60 }, (_, index) => `k${index}`).join(',')}`,
        )
      ).status,
    ).toBe(400);
    expect((await get('/v1/segments/seg_none/members')).status).toBe(404);
    expect((await get(`/v1/segments/${segmentId}/members?cursor=${encodeURIComponent("' OR 1=1 --")}`)).status).toBe(
      200,
    );
  });
});
