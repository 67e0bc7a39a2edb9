// The trigger consumer: segment changes and events in, pending deliveries in ClickHouse out, before offsets commit.
import type { Logger } from 'pino';
import type { EventLog, LogConsumer } from '@cdp/runtime';
import { decodeEvent, decodeSegmentChange, type TopicNames } from '@cdp/schemas';
import type { Destination } from './definitions';
import type { DeliveryStore } from './deliveries';
import { eventDeliveries, segmentDeliveries, type NewDelivery } from './triggers';

export interface TriggerConsumerDeps {
  log: EventLog;
  topics: TopicNames;
  groupId: string;
  logger: Logger;
  deliveries: DeliveryStore;
  /** Every destination, active and paused: a paused one's deliveries are written and wait (cached by the caller). */
  destinations(): Promise<Destination[]>;
  /** Told which destinations got new deliveries, so their workers look at once. */
  enqueued(destinationIds: Set<string>): void;
}

/**
 * One consumer group over both topics. A batch's deliveries are written before the handler returns, so its offsets
 * commit only once ClickHouse holds them: a crash replays the batch, and the same record gives the same delivery
 * id. A record that cannot be decoded is skipped with a log line; the resolver and the segments engine dead-letter
 * what they cannot read, so nothing is lost to that.
 */
export async function startTriggerConsumer(deps: TriggerConsumerDeps): Promise<LogConsumer> {
  const { topics } = deps;
  // A group that never committed starts at the end: history before the first start triggers nothing.
  const startOffsets = {
    [topics.segmentChanges]: await deps.log.endOffsets(topics.segmentChanges),
    [topics.events]: await deps.log.endOffsets(topics.events),
  };
  return deps.log.consume({
    groupId: deps.groupId,
    topics: [topics.segmentChanges, topics.events],
    startOffsets,
    maxBatchSize: 1000,
    async handleBatch(batch) {
      const destinations = await deps.destinations();
      if (destinations.length === 0) return;
      const found: NewDelivery[] = [];
      for (const record of batch.records) {
        try {
          if (batch.topic === topics.segmentChanges)
            found.push(...segmentDeliveries(destinations, decodeSegmentChange(record.value)));
          else found.push(...eventDeliveries(destinations, decodeEvent(record.value)));
        } catch (error) {
          deps.logger.warn(
            { err: error, topic: batch.topic, partition: batch.partition, offset: record.offset },
            'skipped a record destinations could not decode',
          );
        }
      }
      if (found.length === 0) return;
      await deps.deliveries.enqueue(found, Date.now());
      deps.enqueued(new Set(found.map((delivery) => delivery.destinationId)));
    },
  });
}
