// The trigger consumer: segment changes and events in, pending deliveries in ClickHouse out, before offsets commit.
import type { Logger } from 'pino';
import type { EventLog, LogConsumer } from '@cdp/runtime';
import { decodeEvent, decodeSegmentChange, type TopicNames } from '@cdp/schemas';
import type { Destination } from './definitions';
import type { DeliveryStore, Share } from './deliveries';
import { eventTimers, type Timer } from './schedule';
import type { TimerStore } from './timers';
import { eventDeliveries, segmentDeliveries, type NewDelivery } from './triggers';

export interface TriggerConsumerDeps {
  log: EventLog;
  topics: TopicNames;
  groupId: string;
  logger: Logger;
  deliveries: DeliveryStore;
  timers: TimerStore;
  /**
   * Every destination, active and paused: a paused one's deliveries are written and wait (cached by the caller, and
   * read again when the cached list was read before `notBefore`).
   */
  destinations(notBefore?: number): Promise<Destination[]>;
  /** Told which destinations got new deliveries, so their workers look at once. */
  enqueued(destinationIds: Set<string>): void;
}

/**
 * One consumer group over both topics. A batch's deliveries are written before the handler returns, so its offsets
 * commit only once ClickHouse holds them: a crash replays the batch, and the same record gives the same delivery
 * id. A record that cannot be decoded is skipped with a log line; the resolver and the segments engine dead-letter
 * what they cannot read, so nothing is lost to that.
 */
export interface TriggerConsumer {
  consumer: LogConsumer;
  /**
   * An instant by which every event the log had received has been read and its timers and awaited events written
   * (the group's committed offsets have passed the ends the log had then), less `appendMarginMs` for an event
   * received but not yet appended. A timer due by it can be checked for its `unless` event; 0 until then.
   */
  caughtUpThrough(): Promise<number>;
  /**
   * This instance's share of the due timers and deliveries: those whose id hashes to an events partition the group
   * gave it. Instances in one group split them as they split the log, and follow every rebalance; null while the
   * consumer is its group's only member (the embedded log).
   */
  share(): Share;
}

/** The log's end offsets at an instant. */
export interface LogMark {
  at: number;
  ends: Record<number, string>;
}

/**
 * The latest instant of `marks` (oldest first) whose ends the committed offsets have all reached (a partition the group
 * never committed in is where it started, `starts`), or 0; the marks passed are removed, and at most 100 kept: while
 * the consumer lags they pile up, and the newest are enough to follow it.
 */
export function passedMark(
  marks: LogMark[],
  committed: Record<number, string>,
  starts: Record<number, string>,
): number {
  const reached = (ends: Record<number, string>) =>
    Object.entries(ends).every(
      ([partition, end]) => BigInt(committed[Number(partition)] ?? starts[Number(partition)] ?? '0') >= BigInt(end),
    );
  // A later mark passed means every earlier one has.
  const passed = marks.findLastIndex((mark) => reached(mark.ends));
  const at = passed >= 0 ? marks.splice(0, passed + 1).at(-1)!.at : 0;
  if (marks.length > 100) marks.splice(0, marks.length - 100);
  return at;
}

/** How long an event may take from being received (its `receivedAt`) to being in the log. */
export const appendMarginMs = 2000;

export async function startTriggerConsumer(deps: TriggerConsumerDeps): Promise<TriggerConsumer> {
  const { topics } = deps;
  // A group that never committed starts at the end: history before the first start triggers nothing.
  const startOffsets = {
    [topics.segmentChanges]: await deps.log.endOffsets(topics.segmentChanges),
    [topics.events]: await deps.log.endOffsets(topics.events),
  };
  const consumer = await deps.log.consume({
    groupId: deps.groupId,
    topics: [topics.segmentChanges, topics.events],
    startOffsets,
    maxBatchSize: 1000,
    async handleBatch(batch) {
      // Read after the batch's newest record was written: a destination saved before an event was received (through
      // another process, whose change this one is not told of) triggers on it.
      const destinations = await deps.destinations(Math.max(...batch.records.map((record) => record.timestamp)));
      if (destinations.length === 0) return;
      const found: NewDelivery[] = [];
      const timers: Timer[] = [];
      for (const record of batch.records) {
        try {
          if (batch.topic === topics.segmentChanges)
            found.push(...segmentDeliveries(destinations, decodeSegmentChange(record.value)));
          else {
            const event = decodeEvent(record.value);
            found.push(...eventDeliveries(destinations, event));
            timers.push(...eventTimers(destinations, event));
          }
        } catch (error) {
          deps.logger.warn(
            { err: error, topic: batch.topic, partition: batch.partition, offset: record.offset },
            'skipped a record destinations could not decode',
          );
        }
      }
      // Timers before the offsets commit, like deliveries: a crash replays the batch, and a timer keeps its id.
      await deps.timers.schedule(timers);
      if (found.length === 0) return;
      await deps.deliveries.enqueue(found, Date.now());
      deps.enqueued(new Set(found.map((delivery) => delivery.destinationId)));
    },
  });

  const eventPartitions = Object.keys(startOffsets[topics.events] ?? {}).length;
  const marks: LogMark[] = [];
  let through = 0;
  return {
    consumer,
    async caughtUpThrough() {
      marks.push({ at: Date.now(), ends: await deps.log.endOffsets(topics.events) });
      const committed = await deps.log.committedOffsets(deps.groupId, topics.events);
      through = Math.max(through, passedMark(marks, committed, startOffsets[topics.events] ?? {}) - appendMarginMs);
      return through;
    },
    share() {
      const assigned = consumer.assignment();
      return assigned ? { count: eventPartitions, owned: assigned[topics.events] ?? [] } : null;
    },
  };
}
