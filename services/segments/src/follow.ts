// Segments that follow their profiles: each profile change record of the resolver re-evaluates just that profile
// against every segment, so an entered / exited change is published within seconds instead of at the next full pass.
import type { Logger } from 'pino';
import {
  isLogUnavailable,
  isStoreUnavailable,
  type ClickHouseClient,
  type ConsumedRecord,
  type EventLog,
  type LogConsumer,
  type Metrics,
  type RecordBatch,
} from '@cdp/runtime';
import { decodeProfileChange, type ProfileChange, type TopicNames } from '@cdp/schemas';
import type { SegmentStore } from './definitions';
import { reevaluateProfiles, reevaluationOf } from './reevaluate';
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

export interface Follower {
  /** Per partition of the profile changes topic, the offset of the next record to follow: all before it are followed. */
  position(): Record<number, string>;
  close(): Promise<void>;
}

export async function startFollower(deps: FollowerDeps): Promise<Follower> {
  const logger = deps.logger.child({ component: 'segments-follower' });
  const followed = deps.metrics.counter(
    'cdp_segments_followed_profiles_total',
    'Changed profiles evaluated against every segment as they changed',
  );
  const unreadable = deps.metrics.counter(
    'cdp_segments_unreadable_profile_changes_total',
    'Profile change records that could not be decoded (the next full pass covers their profiles)',
  );
  const handled = deps.metrics.counter(
    'cdp_segments_profile_changes_read_total',
    'Profile change records read and followed (unreadable ones included)',
  );
  const skipped = deps.metrics.counter(
    'cdp_segments_unfollowed_profile_changes_total',
    'Profile change records that failed to be followed even alone (the next full pass covers their profiles)',
  );
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
      logger.warn(
        { err: error, partition: record.partition, offset: record.offset },
        'profile change record unreadable; skipped',
      );
      return null;
    }
  };

  const reevaluation = reevaluationOf(deps, logger);

  /** Every segment evaluated for the changed survivors; the ids they absorbed leave every segment as profiles. */
  async function follow(changes: ProfileChange[]): Promise<void> {
    const began = performance.now();
    const survivors = await reevaluateProfiles(
      reevaluation,
      changes.map((change) => change.profileId),
      changes.flatMap((change) => change.merged),
      Date.now(),
    );
    followed.inc(survivors);
    logger.debug({ profiles: survivors, ms: Math.round(performance.now() - began) }, 'followed changed profiles');
    const publishedAt = Date.now();
    for (const change of changes) freshness.observe(Math.max(0, publishedAt - change.at) / 1000);
  }

  const topic = deps.topics.profileChanges;
  // A group that never committed starts at the end: the full pass every process runs on start covers what came before.
  const startOffsets = await deps.log.endOffsets(topic);
  const position = { ...startOffsets, ...(await deps.log.committedOffsets(deps.groupId, topic)) };
  const done = (batch: RecordBatch) => {
    const next = BigInt((batch.records.at(-1) as ConsumedRecord).offset) + 1n;
    if (next > BigInt(position[batch.partition] ?? 0)) position[batch.partition] = next.toString();
    handled.inc(batch.records.length);
  };
  const consumer: LogConsumer = await deps.log.consume({
    groupId: deps.groupId,
    topics: [topic],
    maxBatchSize: batchSize,
    startOffsets: { [topic]: startOffsets },
    async handleBatch(batch) {
      const changes = batch.records.map(decode).filter((change): change is ProfileChange => change !== null);
      // Throwing leaves the offsets uncommitted: the same changes come again, and their evaluation is idempotent.
      if (changes.length === 0) return done(batch);
      // A full pass may hold the turn for many seconds: the consumer keeps telling Kafka it is alive meanwhile.
      const beat = batch.heartbeat;
      const alive = beat ? setInterval(() => void beat().catch(() => undefined), heartbeatEveryMs) : null;
      try {
        await inPieces(changes, (piece) => deps.turns.run(() => follow(piece)), {
          // The store or the event log unavailable: a retry of the whole batch outlasts it, where halves would only
          // publish some changes again under new versions.
          retried: (error) => isStoreUnavailable(error) || isLogUnavailable(error),
          skipped(change, error) {
            skipped.inc();
            logger.error(
              { err: error, profileId: change.profileId },
              'profile change could not be followed; skipped, the next full pass covers it',
            );
          },
        });
      } finally {
        if (alive) clearInterval(alive);
      }
      done(batch);
    },
  });
  logger.info('segments following profile changes');
  return { position: () => ({ ...position }), close: () => consumer.close() };
}

/**
 * Runs `work` over the items, or when that fails for a reason `retried` does not name (an unavailable store, which a
 * retry of the whole batch outlasts), over each half on its own, down to single items; an item that fails alone is
 * handed to `skipped`. A batch that can never succeed together (a query too large for the server) thus never holds
 * the feed back, and one poison record costs only itself.
 */
export async function inPieces<T>(
  items: T[],
  work: (piece: T[]) => Promise<void>,
  on: { retried(error: unknown): boolean; skipped(item: T, error: unknown): void },
): Promise<void> {
  try {
    await work(items);
  } catch (error) {
    if (on.retried(error)) throw error;
    if (items.length === 1) return on.skipped(items[0] as T, error);
    const half = Math.ceil(items.length / 2);
    await inPieces(items.slice(0, half), work, on);
    await inPieces(items.slice(half), work, on);
  }
}
