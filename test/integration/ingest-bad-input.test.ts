// The bad-input catalogue: every malformed request gets a 4xx naming the problem, and valid neighbours are stored.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { read, send } from '../harness/http';
import { storedCounts, waitForStored } from '../clients/store';

const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
};

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const inTwoDays = () => new Date(Date.now() + 2 * 86_400_000).toISOString();

describe.each(runtimes)('bad input on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  const post = (path: string, body: unknown, options: Parameters<typeof send>[3] = {}) =>
    send(cdp.url, path, body, { writeKey: cdp.writeKey, ...options });

  it('answers each malformed request with a 4xx naming the problem and stays up', async () => {
    const valid = JSON.stringify({ userId: 'u', event: 'E' });
    const cases: Array<[string, Promise<Awaited<ReturnType<typeof send>>>, number, RegExp]> = [
      ['malformed JSON', post('/v1/track', null, { raw: '{"userId": "u", "event": ' }), 400, /not valid JSON/],
      ['truncated JSON', post('/v1/track', null, { raw: valid.slice(0, valid.length - 3) }), 400, /not valid JSON/],
      ['empty body', post('/v1/track', null, { raw: '' }), 400, /empty|JSON/],
      [
        'bad gzip',
        post('/v1/track', null, { raw: 'not gzip at all', headers: { 'content-encoding': 'gzip' } }),
        400,
        /gzip/,
      ],
      [
        'truncated gzip',
        post('/v1/track', null, { raw: gzipSync(valid).subarray(0, 20), headers: { 'content-encoding': 'gzip' } }),
        400,
        /gzip/,
      ],
      [
        'unknown encoding',
        post('/v1/track', null, { raw: valid, headers: { 'content-encoding': 'br' } }),
        415,
        /br is not supported/,
      ],
      ['XML', post('/v1/track', null, { raw: '<track/>', contentType: 'application/xml' }), 415, /application\/json/],
      [
        'a form',
        post('/v1/track', null, { raw: 'userId=u&event=E', contentType: 'application/x-www-form-urlencoded' }),
        415,
        /application\/json/,
      ],
      [
        'non-UTF-8 bytes',
        post('/v1/track', null, {
          raw: Buffer.concat([
            Buffer.from('{"userId":"'),
            Buffer.from([0xff, 0xfe, 0xc3]),
            Buffer.from('","event":"E"}'),
          ]),
        }),
        400,
        /UTF-8/,
      ],
      ['an array body', post('/v1/track', []), 400, /JSON object/],
      ['a null batch body', post('/v1/batch', null), 400, /batch/],
      ['an empty batch', post('/v1/batch', { batch: [] }), 400, /at least one event/],
      ['a batch that is no array', post('/v1/batch', { batch: 'x' }), 400, /batch/],
      [
        'an oversized batch',
        post('/v1/batch', {
          batch: [{ type: 'track', userId: 'u', event: 'E', properties: { blob: 'x'.repeat(600 * 1024) } }],
        }),
        413,
        /500 KB/,
      ],
      [
        'a gzip bomb',
        post('/v1/batch', null, { raw: Buffer.alloc(20 * 1024 * 1024, 0x20), gzip: true }),
        413,
        /500 KB/,
      ],
      [
        'a huge string in one event',
        post('/v1/track', { userId: 'u', event: 'E', properties: { blob: 'x'.repeat(100 * 1024) } }),
        413,
        /32 KB/,
      ],
      [
        'a 10k-deep nesting',
        post('/v1/track', null, {
          raw: `{"userId":"u","event":"E","properties":{"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
        }),
        400,
        /nesting is deeper than 32/,
      ],
      [
        'a 200k-deep batch',
        post('/v1/batch', null, { raw: `{"batch":[${'['.repeat(200_000)}${']'.repeat(200_000)}]}` }),
        400,
        /nesting is deeper/,
      ],
      [
        'a __proto__ key',
        post('/v1/track', null, { raw: '{"userId":"u","event":"E","properties":{"__proto__":{"polluted":true}}}' }),
        400,
        /__proto__/,
      ],
      [
        'a constructor.prototype key',
        post('/v1/identify', null, { raw: '{"userId":"u","traits":{"constructor":{"prototype":{"polluted":true}}}}' }),
        400,
        /constructor\.prototype/,
      ],
      [
        'a __proto__ batch context',
        post('/v1/batch', null, {
          raw: '{"context":{"__proto__":{"polluted":true}},"batch":[{"type":"track","userId":"u","event":"E"}]}',
        }),
        400,
        /__proto__/,
      ],
      ['a numeric event name', post('/v1/track', { userId: 'u', event: 42 }), 400, /event/],
      ['an object userId', post('/v1/track', { userId: { id: 1 }, event: 'E' }), 400, /userId/],
      ['string properties', post('/v1/track', { userId: 'u', event: 'E', properties: 'x' }), 400, /properties/],
      ['a missing event', post('/v1/track', { userId: 'u' }), 400, /event/],
      ['no userId nor anonymousId', post('/v1/page', { name: 'Home' }), 400, /userId or anonymousId/],
      ['an alias without previousId', post('/v1/alias', { userId: 'u' }), 400, /previousId/],
      [
        'a numeric timestamp',
        post('/v1/track', { userId: 'u', event: 'E', timestamp: 1_700_000_000_000 }),
        400,
        /timestamp/,
      ],
      ['a prose timestamp', post('/v1/track', { userId: 'u', event: 'E', timestamp: 'Tuesday 3pm' }), 400, /ISO-8601/],
      [
        'a timestamp before 2000',
        post('/v1/track', { userId: 'u', event: 'E', timestamp: '1970-01-01T00:00:00Z' }),
        400,
        /before 2000-01-01/,
      ],
      [
        'a far-future timestamp',
        post('/v1/track', { userId: 'u', event: 'E', timestamp: inTwoDays() }),
        400,
        /more than a day in the future/,
      ],
      [
        'a sentAt in year 1800',
        post('/v1/track', {
          userId: 'u',
          event: 'E',
          timestamp: '1800-01-01T00:00:00Z',
          sentAt: '1800-01-01T00:00:01Z',
        }),
        400,
        /outside 1900-01-01 to 2299-12-31/,
      ],
      [
        'an absurd skew',
        post('/v1/track', {
          userId: 'u',
          event: 'E',
          timestamp: '0001-01-01T00:00:00Z',
          sentAt: '9999-12-31T00:00:00Z',
        }),
        400,
        /outside 1900-01-01 to 2299-12-31/,
      ],
      [
        'an unknown type',
        post('/v1/batch', { batch: [{ type: 'teleport', userId: 'u' }] }),
        400,
        /type must be one of/,
      ],
    ];
    for (const [what, pending, status, message] of cases) {
      const response = await pending;
      expect({ what, status: response.status }).toEqual({ what, status });
      expect({ what, text: JSON.stringify(response.body) }).toEqual({ what, text: expect.stringMatching(message) });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await read(cdp.url, '/healthz')).status).toBe(200);
    expect((await post('/v1/track', { userId: 'u', event: 'Still Up' })).status).toBe(200);
  });

  it('refuses an unknown key in the Basic header before reading the body: bad gzip, an oversized body, or a bomb', async () => {
    const stranger = { writeKey: 'wk_nobody_knows_this' };
    const bodies: Array<[string, Parameters<typeof send>[3]]> = [
      ['bad gzip', { ...stranger, raw: 'not gzip at all', headers: { 'content-encoding': 'gzip' } }],
      ['a gzip bomb', { ...stranger, raw: Buffer.alloc(20 * 1024 * 1024, 0x20), gzip: true }],
      [
        'an oversized body',
        {
          ...stranger,
          raw: JSON.stringify({
            batch: [{ type: 'track', userId: 'u', event: 'E', properties: { blob: 'x'.repeat(600 * 1024) } }],
          }),
        },
      ],
      ['malformed JSON', { ...stranger, raw: '{"batch": [' }],
    ];
    for (const [what, options] of bodies) {
      const response = await send(cdp.url, '/v1/batch', null, options);
      expect({ what, status: response.status, code: response.body.code }).toEqual({
        what,
        status: 401,
        code: 'UNKNOWN_WRITE_KEY',
      });
    }
    // A browser's key travels in the body: it is checked once the body is read.
    const inBody = await send(cdp.url, '/v1/track', null, {
      raw: JSON.stringify({ writeKey: 'wk_nobody_knows_this', userId: 'u', event: 'E' }),
      contentType: 'text/plain',
    });
    expect([inBody.status, inBody.body.code]).toEqual([401, 'UNKNOWN_WRITE_KEY']);
  });

  it('stores exactly the valid events of a batch full of bad ones', async () => {
    const userId = uniqueName('user');
    const id = () => uniqueName('msg');
    const items: Array<{ valid: boolean; item: unknown }> = [
      { valid: true, item: { type: 'track', userId, event: 'Kept', messageId: id() } },
      { valid: false, item: { type: 'track', userId, messageId: id() } },
      { valid: false, item: { type: 'teleport', userId, messageId: id() } },
      { valid: true, item: { type: 'identify', userId, traits: { plan: 'pro' }, messageId: id() } },
      { valid: false, item: { type: 'track', userId, event: 'Future', timestamp: inTwoDays(), messageId: id() } },
      { valid: true, item: { type: 'track', userId, event: 'Soon', timestamp: inAnHour(), messageId: id() } },
      // A device clock reset to 1970 whose sentAt agrees: corrected by the skew, not refused.
      {
        valid: true,
        item: {
          type: 'track',
          userId,
          event: 'Reset Clock',
          timestamp: '1970-01-01T00:05:00Z',
          sentAt: '1970-01-01T00:06:00Z',
          messageId: id(),
        },
      },
      {
        valid: false,
        item: { type: 'track', userId, event: 'Deep', properties: { deep: nested(100) }, messageId: id() },
      },
      {
        valid: false,
        item: { type: 'track', userId, event: 'Huge', properties: { blob: 'x'.repeat(40 * 1024) }, messageId: id() },
      },
      { valid: false, item: { type: 'track', anonymousId: ['a'], event: 'Typed', messageId: id() } },
      { valid: false, item: 'not an object' },
      { valid: true, item: { type: 'page', anonymousId: uniqueName('anon'), name: 'Home', messageId: id() } },
      { valid: true, item: { type: 'alias', userId, previousId: uniqueName('old'), messageId: id() } },
    ];
    const poisoned = id();
    // A __proto__ key can only be written as raw JSON; it goes at the end of the batch.
    const raw = `{"batch":[${items.map((entry) => JSON.stringify(entry.item)).join(',')},{"type":"track","userId":"${userId}","event":"Poison","messageId":"${poisoned}","properties":{"__proto__":{"admin":true}}}]}`;
    const response = await post('/v1/batch', null, { raw, gzip: true });

    const expectedBad = [...items.flatMap((entry, index) => (entry.valid ? [] : [index])), items.length];
    expect(response.status).toBe(400);
    expect([...new Set((response.body.errors as Array<{ index: number }>).map((issue) => issue.index))]).toEqual(
      expectedBad,
    );
    expect(String(response.body.message)).toContain(`${expectedBad.length} of ${items.length + 1} events are invalid`);

    const messageIdOf = (item: unknown) => (item as { messageId?: string }).messageId;
    const validIds = items.filter((entry) => entry.valid).map((entry) => messageIdOf(entry.item) as string);
    const invalidIds = [
      ...items
        .filter((entry) => !entry.valid)
        .map((entry) => messageIdOf(entry.item))
        .filter((value): value is string => Boolean(value)),
      poisoned,
    ];
    const counts = await waitForStored(cdp, validIds, invalidIds);
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(validIds.map((messageId) => [messageId, 1])));
    expect((await storedCounts(cdp, invalidIds)).size).toBe(0);
  });
});
