// The evaluator keeps membership current and publishes each entry and exit once on segments.changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventLog, createMetrics, named, waitFor, type EventLog, type Metrics } from '@cdp/runtime';
import { topicNames, type SegmentChange } from '@cdp/schemas';
import { builtinSegments, start as startSegments, type SegmentsService } from '@cdp/segments';
import { read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { followSegmentChanges, type SegmentFeed } from '../harness/segment-feed';

// On Kafka a second evaluator instance shares the consumer group, and the feed must still show each change once.
describe.each(runtimes)('segment evaluation on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  let feed: SegmentFeed;
  let second: { log: EventLog; segments: SegmentsService; metrics: Metrics } | null = null;
  const changes = (): SegmentChange[] => feed.changes;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${cdp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${cdp.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (response.status === 204 ? {} : await response.json()) as Record<string, unknown>,
    };
  };
  const order = (userId: string, revenue: number) =>
    send(
      cdp.url,
      '/v1/track',
      { userId, event: 'Order Completed', properties: { revenue, channel: 'web' } },
      { writeKey: cdp.writeKey },
    );
  const segmentsOf = async (userId: string) =>
    ((await read(cdp.url, `/v1/profiles/user_id:${userId}`, cdp.readKey)).body.segments ?? []) as string[];

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, { CDP_SEGMENTS_INTERVAL_MS: '400' });
    feed = await followSegmentChanges(cdp);
    if (runtime === 'kafka') {
      // A second instance in the same consumer group, as another process would run it: only one may evaluate.
      const log = await createEventLog(cdp.config, cdp.logger);
      const metrics = createMetrics();
      const segments = await startSegments({
        log,
        topics: topicNames(cdp.config.topicPrefix),
        groupId: `${cdp.config.topicPrefix}cdp-segments`,
        clickhouse: cdp.platform.clickhouse.client,
        logger: cdp.logger,
        metrics,
        intervalMs: 400,
      });
      second = { log, segments, metrics };
    }
  }, 180_000);
  afterAll(async () => {
    await second?.segments.close();
    await second?.log.close();
    await feed?.close();
    await cdp?.close();
  });

  it('creates the built-in segments on first start', async () => {
    const { segments } = (await call('GET', '/v1/segments')).body as { segments: Array<{ id: string; kind: string }> };
    expect(
      segments
        .filter((segment) => segment.kind === 'builtin')
        .map((segment) => segment.id)
        .sort(),
    ).toEqual(builtinSegments.map((segment) => segment.id).sort());
  });

  it('a customer who buys twice leaves one-time buyers and enters repeat buyers: one exit and one entry', async () => {
    const oneTime = (
      await call('POST', '/v1/segments', { name: 'One-time buyers', rule: { stat: 'orders', equals: 1 } })
    ).body.id as string;
    const repeat = (await call('POST', '/v1/segments', { name: 'Repeat buyers', rule: { stat: 'orders', gte: 2 } }))
      .body.id as string;
    const userId = uniqueName('buyer');
    const ours = () => changes().filter((change) => change.segmentId === oneTime || change.segmentId === repeat);

    expect((await order(userId, 20)).status).toBe(200);
    await waitFor(async () => (await segmentsOf(userId)).includes(oneTime), {
      timeoutMs: 30_000,
      what: 'the first purchase to put the customer in one-time buyers',
    });
    await waitFor(() => ours().length >= 1, { timeoutMs: 10_000, what: 'the entry on the change feed' });
    const profileId = ours()[0]?.profileId as string;
    expect(ours().map((change) => [change.segmentId, change.change])).toEqual([[oneTime, 'entered']]);

    expect((await order(userId, 35)).status).toBe(200);
    await waitFor(
      async () => {
        const current = await segmentsOf(userId);
        return current.includes(repeat) && !current.includes(oneTime);
      },
      { timeoutMs: 30_000, what: 'the second purchase to move the customer to repeat buyers' },
    );
    await waitFor(() => ours().length >= 3, { timeoutMs: 10_000, what: 'the exit and the entry on the change feed' });
    // Later evaluations find nothing new: give them a few rounds to prove it.
    const evaluations = async () => {
      const texts = [await cdp.platform.metrics.registry.metrics(), (await second?.metrics.registry.metrics()) ?? ''];
      return texts.reduce(
        (sum, text) => sum + Number(/^cdp_segments_evaluations_total\{outcome="ok"\} (\d+)/m.exec(text)?.[1] ?? 0),
        0,
      );
    };
    const seen = await evaluations();
    await waitFor(async () => (await evaluations()) >= seen + 3, { timeoutMs: 30_000, what: 'three more evaluations' });

    const afterSecond = ours().slice(1);
    expect(afterSecond.map((change) => [change.segmentId, change.change]).sort()).toEqual(
      [
        [oneTime, 'exited'],
        [repeat, 'entered'],
      ].sort(),
    );
    expect(ours().every((change) => change.profileId === profileId)).toBe(true);
    const exit = afterSecond.find((change) => change.change === 'exited') as SegmentChange;
    expect(exit.enteredAt).toBe(ours()[0]?.at);
    expect((await call('GET', `/v1/segments/${repeat}`)).body.size).toBe(1);
  });

  it('members of a deleted segment exit once; membership of ids never defined here is left alone', async () => {
    const userId = uniqueName('deleted');
    const foreign = uniqueName('foreign');
    await cdp.platform.clickhouse.client.insert(
      named('test.insertForeignMembership', {
        table: 'segment_membership',
        values: [
          {
            segment_id: foreign,
            profile_id: 'prf_elsewhere',
            is_member: 1,
            entered_at: '2025-01-01 00:00:00.000',
            changed_at: '2025-01-01 00:00:00.000',
            version: 1,
          },
        ],
        format: 'JSONEachRow',
      }),
    );
    const segment = (await call('POST', '/v1/segments', { name: 'Big spenders', rule: { stat: 'revenue', gte: 1000 } }))
      .body.id as string;
    expect((await order(userId, 1500)).status).toBe(200);
    await waitFor(async () => (await segmentsOf(userId)).includes(segment), {
      timeoutMs: 30_000,
      what: 'the customer to enter',
    });
    expect((await call('DELETE', `/v1/segments/${segment}`)).status).toBe(204);
    await waitFor(() => changes().some((change) => change.segmentId === segment && change.change === 'exited'), {
      timeoutMs: 30_000,
      what: 'the exit',
    });
    expect(
      changes()
        .filter((change) => change.segmentId === segment)
        .map((change) => change.change),
    ).toEqual(['entered', 'exited']);
    expect(await segmentsOf(userId)).not.toContain(segment);
    expect(changes().some((change) => change.segmentId === foreign)).toBe(false);
    const kept = await cdp.platform.clickhouse.client.query(
      named('test.readForeignMembership', {
        query: 'SELECT is_member FROM segment_membership FINAL WHERE segment_id = {foreign:String}',
        query_params: { foreign },
        format: 'JSONEachRow',
      }),
    );
    expect(await kept.json()).toEqual([{ is_member: 1 }]);
  });
});
