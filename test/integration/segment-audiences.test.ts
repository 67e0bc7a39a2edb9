// Audiences: cursor pages, NDJSON and CSV streams all hold exactly the members with their identifiers and chosen traits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import { generateStoredProfiles, hostileText, insertStoredProfiles } from '../generators/stored-profiles';
import { referenceMembers, referenceProfiles } from '../reference/segment-rules';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

const data = generateStoredProfiles({ profiles: 60, seed: 17, prefix: uniqueName('aud') });
const rule: SegmentRule = { or: [{ stat: 'orders', gte: 1 }, { trait: 'nickname', equals: hostileText }] };
const traitKeys = ['plan', 'vip', 'nickname'];

/** Identifiers stored per stored profile id, as the resolver writes them; the survivor gets the user id and email. */
function identitiesOf(storedIds: string[], merges: Map<string, string>) {
  return storedIds.flatMap((storedId) => [
    { type: 'anonymous_id', value: `${storedId}-device`, profile_id: storedId, version: 1 },
    ...(merges.has(storedId) ? [] : [{ type: 'user_id', value: `${storedId}-user`, profile_id: storedId, version: 1 }, { type: 'email', value: `${storedId}@example.com`, profile_id: storedId, version: 1 }]),
  ]);
}

describe('segment audiences', () => {
  let cdp: TestPlatform;
  let expected: Array<Record<string, unknown>>;
  let segmentId: string;
  const get = (path: string, accept = 'application/json') => fetch(`${cdp.url}${path}`, { headers: { authorization: `Bearer ${cdp.readKey}`, accept } });

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded');
    const client = cdp.platform.clickhouse.client;
    await insertStoredProfiles(client, data);
    const profiles = referenceProfiles(data.messages, data.merges);
    const storedIds = [...profiles.map((profile) => profile.profileId), ...data.merges.keys()];
    await client.insert({ table: 'identities', values: identitiesOf(storedIds, data.merges), format: 'JSONEachRow' });

    const members = new Set(referenceMembers(rule, profiles, Date.now()));
    expected = profiles
      .filter((profile) => members.has(profile.profileId))
      .sort((a, b) => (a.profileId < b.profileId ? -1 : 1))
      .map((profile) => {
        const absorbed = [...data.merges].filter(([, survivor]) => survivor === profile.profileId).map(([loser]) => loser);
        return {
          profileId: profile.profileId,
          userId: `${profile.profileId}-user`,
          emails: [`${profile.profileId}@example.com`],
          phones: [],
          anonymousIds: [profile.profileId, ...absorbed].map((id) => `${id}-device`).sort(),
          traits: Object.fromEntries(traitKeys.filter((key) => key in profile.traits).map((key) => [key, profile.traits[key]])),
        };
      });

    const created = await fetch(`${cdp.url}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.readKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Audience', rule }),
    });
    segmentId = ((await created.json()) as { id: string }).id;
    await waitFor(async () => ((await (await get(`/v1/segments/${segmentId}`)).json()) as { size: number }).size === expected.length, {
      timeoutMs: 30_000,
      what: 'the segment to be evaluated',
    });
  }, 180_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('pages through every member once, in order, with identifiers and the chosen traits', async () => {
    const pages: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const response = await get(`/v1/segments/${segmentId}/members?limit=7&traits=${traitKeys.join(',')}${cursor ? `&cursor=${cursor}` : ''}`);
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
    const response = await get(`/v1/segments/${segmentId}/members?traits=${traitKeys.join(',')}`, 'application/x-ndjson');
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await response.text()).split('\n').filter(Boolean);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(expected);
  });

  it('streams the whole audience as CSV with quoted fields where needed', async () => {
    const response = await get(`/v1/segments/${segmentId}/members?traits=plan,nickname`, 'text/csv');
    expect(response.headers.get('content-type')).toContain('text/csv');
    const text = await response.text();
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('profileId,userId,emails,phones,anonymousIds,trait:plan,trait:nickname');
    expect(lines.length).toBe(expected.length + 1);
    const first = expected[0] as { profileId: string; userId: string; emails: string[]; anonymousIds: string[]; traits: Record<string, unknown> };
    expect(lines[1]).toBe([first.profileId, first.userId, first.emails.join(';'), '', first.anonymousIds.join(';'), first.traits.plan, first.traits.nickname ?? ''].join(','));
    expect(text).toContain(`,"${hostileText.replaceAll('"', '""')}"\r\n`);
  });

  it('refuses bad parameters and unknown segments', async () => {
    expect((await get(`/v1/segments/${segmentId}/members?limit=0`)).status).toBe(400);
    expect((await get(`/v1/segments/${segmentId}/members?traits=${Array.from({ length: 60 }, (_, index) => `k${index}`).join(',')}`)).status).toBe(400);
    expect((await get('/v1/segments/seg_none/members')).status).toBe(404);
    expect((await get(`/v1/segments/${segmentId}/members?cursor=${encodeURIComponent("' OR 1=1 --")}`)).status).toBe(200);
  });
});
