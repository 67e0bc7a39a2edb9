// The segment endpoints: CRUD with exact-path 400s, 404s, read-only built-ins, and previews equal to a recomputation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSegmentStore } from '@cdp/segments';
import type { SegmentRule } from '@cdp/schemas';
import { generateStoredProfiles, hostileText, insertStoredProfiles } from '../generators/stored-profiles';
import { referenceMembers, referenceProfiles } from '../reference/segment-rules';
import { read } from '../harness/http';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

const data = generateStoredProfiles({ profiles: 80, seed: 5, prefix: uniqueName('api') });

describe('segments API', () => {
  let cdp: TestPlatform;
  const call = async (method: string, path: string, body?: unknown, key?: string) => {
    const response = await fetch(`${cdp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key ?? cdp.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', {}, ['query-api']);
    await insertStoredProfiles(cdp.platform.clickhouse.client, data);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it('creates, lists, reads, replaces and deletes a custom segment', async () => {
    const rule: SegmentRule = {
      and: [
        { stat: 'orders', gte: 2 },
        { trait: 'plan', equals: 'pro' },
      ],
    };
    const created = await call('POST', '/v1/segments', { name: 'Pro repeat buyers', rule });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Pro repeat buyers', kind: 'custom', rule, size: 0 });
    const id = created.body.id as string;
    expect(id).toMatch(/^seg_[0-9a-f]{16}$/);
    expect(Date.parse(created.body.updatedAt as string)).toBeGreaterThan(0);

    const listed = await call('GET', '/v1/segments');
    expect((listed.body.segments as Array<{ id: string }>).find((segment) => segment.id === id)).toMatchObject({
      name: 'Pro repeat buyers',
      kind: 'custom',
      rule,
      size: 0,
    });
    expect((await call('GET', `/v1/segments/${id}`)).body).toMatchObject({ id, rule });

    const replaced = await call('PUT', `/v1/segments/${id}`, { name: 'Pro buyers', rule: { stat: 'orders', gte: 1 } });
    expect(replaced.status).toBe(200);
    expect((await call('GET', `/v1/segments/${id}`)).body).toMatchObject({
      id,
      name: 'Pro buyers',
      rule: { stat: 'orders', gte: 1 },
    });

    expect((await call('DELETE', `/v1/segments/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/segments/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/segments/${id}`)).status).toBe(404);
    expect(
      ((await call('GET', '/v1/segments')).body.segments as Array<{ id: string }>).some((segment) => segment.id === id),
    ).toBe(false);
  });

  it('answers 400 INVALID_SEGMENT with the exact path of every problem', async () => {
    const wrong = await call('POST', '/v1/segments', {
      name: 'x',
      rule: {
        and: [
          { trait: 'plan', equals: 'pro' },
          { stat: 'orders', gte: 'two' },
        ],
      },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'INVALID_SEGMENT', errors: [{ path: 'rule.and.1.gte' }] });
    expect(wrong.body.message).toContain('rule.and.1.gte');

    const several = await call('POST', '/v1/segments', {
      rule: {
        or: [
          { stat: 'bogus', gt: 1 },
          { event: 'x', atLeast: 3, atMost: 1 },
        ],
      },
      extra: 1,
    });
    expect((several.body.errors as Array<{ path: string }>).map((error) => error.path).sort()).toEqual(
      ['', 'name', 'rule.or.0.stat', 'rule.or.1.atMost'].sort(),
    );

    const preview = await call('POST', '/v1/segments/preview', { rule: { not: { trait: 'a' } } });
    expect(preview).toMatchObject({ status: 400, body: { code: 'INVALID_SEGMENT', errors: [{ path: 'rule.not' }] } });
    expect((await call('POST', '/v1/segments', '{"name": "x", "rule": ')).body.code).toBe('INVALID_JSON');
  });

  it('answers 404 for an unknown id and 409 for a change to a built-in', async () => {
    expect((await call('GET', '/v1/segments/seg_unknown')).body.code).toBe('NOT_FOUND');
    expect((await call('PUT', '/v1/segments/seg_unknown', { name: 'x', rule: { stat: 'orders', gt: 1 } })).status).toBe(
      404,
    );
    const builtin = await createSegmentStore(cdp.platform.clickhouse.client).save({
      id: uniqueName('builtin'),
      name: 'Built in',
      kind: 'builtin',
      rule: { stat: 'orders', gt: 1 },
    });
    expect((await call('DELETE', `/v1/segments/${builtin.id}`)).body.code).toBe('READ_ONLY_SEGMENT');
    expect(
      (await call('PUT', `/v1/segments/${builtin.id}`, { name: 'x', rule: { stat: 'orders', gt: 1 } })).status,
    ).toBe(409);
    expect((await call('GET', `/v1/segments/${builtin.id}`)).body.kind).toBe('builtin');
  });

  it('asks for a key with the scope each route needs', async () => {
    expect((await read(cdp.url, '/v1/segments')).status).toBe(401);
    const preview = await call('POST', '/v1/segments/preview', { rule: { stat: 'orders', gt: 1 } }, cdp.writeKey);
    expect(preview.status).toBe(403);
    expect(preview.body).toMatchObject({ code: 'MISSING_SCOPE', errors: [{ scope: 'analytics' }] });
    // A read key reads and previews, but changes nothing: a deleted segment would send every member an exit.
    expect((await call('POST', '/v1/segments/preview', { rule: { stat: 'orders', gt: 1 } }, cdp.readKey)).status).toBe(
      200,
    );
    const refused = await call(
      'POST',
      '/v1/segments',
      { name: 'by a read key', rule: { stat: 'orders', gt: 1 } },
      cdp.readKey,
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'MISSING_SCOPE', errors: [{ scope: 'segments:write' }] });
    expect(String(refused.body.message)).toContain('segments:write');
    expect(
      ((await call('GET', '/v1/segments', undefined, cdp.readKey)).body.segments as Array<{ name: string }>).map(
        (segment) => segment.name,
      ),
    ).not.toContain('by a read key');
  });

  it('previews the count and a sample of exactly the members a recomputation finds', async () => {
    const profiles = referenceProfiles(data.messages, data.merges);
    const rules: SegmentRule[] = [
      { stat: 'orders', gte: 2 },
      {
        or: [
          { trait: 'vip', equals: true },
          { event: 'Product Viewed', where: [{ property: 'category', equals: 'bags' }] },
        ],
      },
      { trait: 'nickname', equals: hostileText },
      { event: hostileText, where: [{ property: hostileText, equals: hostileText }] },
    ];
    for (const rule of rules) {
      const expected = referenceMembers(rule, profiles, Date.now());
      const preview = await call('POST', '/v1/segments/preview', { rule });
      expect(preview.status).toBe(200);
      expect(preview.body.count).toBe(expected.length);
      expect(preview.body.sample).toEqual(expected.slice(0, 20));
    }
  });
});
