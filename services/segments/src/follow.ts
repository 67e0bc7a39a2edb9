// Segments that follow their profiles: each profile change record of the resolver re-evaluates just that profile
// against every segment, so an entered / exited change is published within seconds instead of at the next full pass.
import type { Logger } from 'pino';
import { absorbedIdsOf, survivorsOfStored } from '@cdp/profiles';
import type { ClickHouseClient, ConsumedRecord, EventLog, LogConsumer, Metrics } from '@cdp/runtime';
import { decodeProfileChange, type ProfileChange, type TopicNames } from '@cdp/schemas';
import type { SegmentStore } from './definitions';
import { evaluateSegments, type EvaluationResult } from './evaluate';
import { buildChangedPass, dropPasses, latestPass } from './passes';
import type { Turns } from './turns';

export interface FollowerDeps {
  log: EventLog;
  topics: Pick<TopicNames, 'profileChanges' | 'segmentChanges'>;
  clickhouse: ClickHouseClient;
  store: SegmentStore;
  logger: Logger;
  metrics: Metrics;
  groupId: string;
  turns: Turns;
}

/** Profile changes read at a time: one evaluation of every segment covers them all. */
const batchSize = 5000;
/** How often a waiting batch tells the log its consumer is alive: well inside Kafka's 10 s session timeout. */
const heartbeatEveryMs = 2000;

export async function startFollower(deps: FollowerDeps): Promise<{ close(): Promise<void> }> {
  const logger = deps.logger.child({ component: 'segments-follower' });
  const followed = deps.metrics.counter('cdp_segments_followed_profiles_total', 'Changed profiles evaluated against every segment as they changed');
  const unreadable = deps.metrics.counter('cdp_segments_unreadable_profile_changes_total', 'Profile change records that could not be decoded (the next full pass covers their profiles)');
  const handled = deps.metrics.counter('cdp_segments_profile_changes_read_total', 'Profile change records read and followed (unreadable ones included)');
  const changesCounter = deps.metrics.counter('cdp_segments_changes_total', 'Segment membership changes published', ['change']);
  const freshness = deps.metrics.histogram(
    'cdp_segments_follow_seconds',
    'Seconds from the resolver writing a profile change to its segment changes being published',
    [],
    [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  );

  const decode = (record: ConsumedRecord): ProfileChange | null => {
    try {
      return decodeProfileChange(record.value);
    } catch (error) {
      unreadable.inc();
      logger.warn({ err: error, partition: record.partition, offset: record.offset }, 'profile change record unreadable; skipped');
      return null;
    }
  };

  /** Every segment evaluated for the changed survivors; the ids they absorbed leave every segment as profiles. */
  async function follow(changes: ProfileChange[]): Promise<void> {
    const scoredBy = await latestPass(deps.clickhouse);
    // Before the first full pass nothing is stored to compare with: that pass evaluates everyone.
    if (!scoredBy) return;
    // A record may name a profile absorbed since (a replay, records of two resolvers): its survivor now is the one to
    // roll up, and the named id leaves every segment.
    const named = [...new Set(changes.map((change) => change.profileId))];
    const survivors = [...new Set(await survivorsOfStored(deps.clickhouse, named))].sort();
    const absorbed = await absorbedIdsOf(deps.clickhouse, survivors);
    const merged = changes.flatMap((change) => change.merged);
    const scope = [...new Set([...named, ...survivors, ...absorbed, ...merged])].sort();
    const now = Date.now();
    const version = deps.turns.nextVersion(now);
    const pass = { id: version, traitKeys: scoredBy.traitKeys, behaviours: scoredBy.behaviours };
    const began = performance.now();
    let built = 0;
    try {
      await buildChangedPass(deps.clickhouse, pass, { survivors, stored: [...new Set([...survivors, ...absorbed])] }, now, scoredBy);
      built = performance.now() - began;
      const targets = (await deps.store.list()).map((definition) => ({ segmentId: definition.id, rule: definition.rule }));
      const evaluation = { clickhouse: deps.clickhouse, log: deps.log, changesTopic: deps.topics.segmentChanges };
      const options = { now, version, pass, scope };
      const count = (result: EvaluationResult) => {
        changesCounter.inc({ change: 'entered' }, result.entered);
        changesCounter.inc({ change: 'exited' }, result.exited);
      };
      try {
        // Every segment in one diff: a few profiles cost a handful of queries, not a handful per segment.
        count(await evaluateSegments(evaluation, targets, options));
      } catch (error) {
        // One broken segment must not hold the others back: each alone, and the broken one is left to the next full pass.
        logger.warn({ err: error }, 'changed profiles could not be evaluated against every segment at once; one segment at a time');
        await dropPasses(deps.clickhouse, 'segment_diffs', { below: 0, exactly: version });
        for (const target of targets) {
          try {
            count(await evaluateSegments(evaluation, [target], options));
          } catch (failure) {
            logger.error({ err: failure, segmentId: target.segmentId }, 'segment evaluation of changed profiles failed');
          }
        }
      }
    } finally {
      await dropPasses(deps.clickhouse, 'segment_profiles', { below: 0, exactly: version });
      await dropPasses(deps.clickhouse, 'segment_diffs', { below: 0, exactly: version });
    }
    followed.inc(survivors.length);
    logger.debug({ profiles: survivors.length, buildMs: Math.round(built), totalMs: Math.round(performance.now() - began) }, 'followed changed profiles');
    const publishedAt = Date.now();
    for (const change of changes) freshness.observe(Math.max(0, publishedAt - change.at) / 1000);
  }

  const consumer: LogConsumer = await deps.log.consume({
    groupId: deps.groupId,
    topics: [deps.topics.profileChanges],
    maxBatchSize: batchSize,
    // A group that never committed starts at the end: the full pass every process runs on start covers what came before.
    startOffsets: { [deps.topics.profileChanges]: await deps.log.endOffsets(deps.topics.profileChanges) },
    async handleBatch(batch) {
      const changes = batch.records.map(decode).filter((change): change is ProfileChange => change !== null);
      // Throwing leaves the offsets uncommitted: the same changes come again, and their evaluation is idempotent.
      if (changes.length === 0) return handled.inc(batch.records.length);
      // A full pass may hold the turn for many seconds: the consumer keeps telling Kafka it is alive meanwhile.
      const beat = batch.heartbeat;
      const alive = beat ? setInterval(() => void beat().catch(() => undefined), heartbeatEveryMs) : null;
      try {
        await deps.turns.run(() => follow(changes));
      } finally {
        if (alive) clearInterval(alive);
      }
      handled.inc(batch.records.length);
    },
  });
  logger.info('segments following profile changes');
  return { close: () => consumer.close() };
}
