// Records the resolver cannot take go to the dead-letter topic with their reason, and the partition moves on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type ConsumedRecord, type LogConsumer } from '@cdp/runtime';
import { encodeEvent, topicNames, type EventRecord } from '@cdp/schemas';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { counterOf, read } from '../harness/http';

const event = (overrides: Partial<EventRecord>): EventRecord => ({
  messageId: uniqueName('m'),
  type: 'track',
  userId: null,
  anonymousId: null,
  event: 'Product Viewed',
  name: null,
  groupId: null,
  previousId: null,
  timestamp: Date.parse('2025-03-01T10:00:00.000Z'),
  originalTimestamp: null,
  sentAt: null,
  receivedAt: Date.parse('2025-03-01T10:00:01.000Z'),
  channel: 'web',
  source: 'test',
  properties: '{}',
  traits: '{}',
  context: '{}',
  ...overrides,
});

describe.each(runtimes)('dead-letter topic on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  let deadLetters: LogConsumer;
  const parked: ConsumedRecord[] = [];

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
    const log = cdp.platform.log;
    if (!log) throw new Error('the platform runs without an event log');
    deadLetters = await log.consume({
      groupId: uniqueName('dead-letter-reader'),
      topics: [topicNames(cdp.config.topicPrefix).deadLetter],
      handleBatch: async (batch) => {
        parked.push(...batch.records);
      },
    });
  });
  afterAll(async () => {
    await deadLetters?.close();
    await cdp?.close();
  });

  it('parks undecodable and unstorable records with their reason and resolves the good ones behind them', async () => {
    const userId = uniqueName('user');
    const key = uniqueName('device');
    const poison = [
      { key, value: Buffer.from('not avro at all') },
      { key, value: encodeEvent(event({ userId, timestamp: Date.parse('2400-01-01T00:00:00.000Z') })) },
      { key, value: encodeEvent(event({ userId, properties: '[1,2]' })) },
      { key, value: encodeEvent(event({})) },
      { key, value: encodeEvent(event({ userId, type: 'purchase' })) },
    ];
    const good = event({ userId, event: 'Order Completed', properties: '{"revenue":5}' });
    await cdp.platform.log?.produce(topicNames(cdp.config.topicPrefix).events, [
      ...poison,
      { key, value: encodeEvent(good) },
    ]);

    const profile = await waitFor(
      async () => {
        const response = await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey);
        return response.status === 200 ? response.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the good event behind the poison ones to be resolved' },
    );
    expect(profile.stats).toMatchObject({ events: 1, orders: 1, revenue: 5 });

    await waitFor(async () => parked.length >= poison.length || undefined, {
      timeoutMs: 30_000,
      what: 'the poison records on the dead-letter topic',
    });
    expect(parked.map((record) => record.value)).toEqual(poison.map((record) => record.value));
    expect(parked.map((record) => record.headers.reason)).toEqual([
      expect.stringMatching(/^cannot decode Avro event/),
      expect.stringMatching(/^timestamp .* is outside 1900-01-01 to 2299-12-31$/),
      'properties is not a JSON object',
      'event has no identifier (userId, anonymousId, email or phone)',
      expect.stringMatching(/^event type "purchase" is not one of/),
    ]);
    expect(parked.every((record) => record.headers.topic === topicNames(cdp.config.topicPrefix).events)).toBe(true);
    // Counted once the record is parked: a beat after a consumer may have read it.
    const counted = await waitFor(
      async () => {
        const count = await counterOf(cdp.url, 'cdp_resolver_events_dead_lettered_total');
        return count >= poison.length ? count : undefined;
      },
      { timeoutMs: 10_000, what: 'the five parked records counted' },
    );
    expect(counted).toBe(5);
  });
});
