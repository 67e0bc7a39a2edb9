// The resolver service: reads events from the log, resolves each to a profile and writes them to ClickHouse.
import type { Logger } from 'pino';
import type { ClickHouseClient, ConsumedRecord, EventLog, LogConsumer, Metrics } from '@cdp/runtime';
import { decodeEvent, type EventRecord, type TopicNames } from '@cdp/schemas';
import { identifiersOf } from './identifiers';
import { openLinkLog } from './links';
import { resolveBatch } from './resolve';
import { writeResolved } from './write';

export { profileIdOf, identifiersOf } from './identifiers';
export { createIdentityGraph } from './graph';

export interface ResolverDeps {
  log: EventLog;
  topics: TopicNames;
  clickhouse: ClickHouseClient;
  logger: Logger;
  metrics: Metrics;
  batchSize?: number;
  groupId?: string;
}

export interface ResolverService {
  close(): Promise<void>;
}

interface Rejected {
  record: ConsumedRecord;
  reason: string;
}

function decodeAll(records: ConsumedRecord[]): { events: EventRecord[]; rejected: Rejected[] } {
  const events: EventRecord[] = [];
  const rejected: Rejected[] = [];
  for (const record of records) {
    try {
      const event = decodeEvent(record.value);
      if (identifiersOf(event).length === 0) rejected.push({ record, reason: 'event has no identifier (userId, anonymousId, email or phone)' });
      else events.push(event);
    } catch (error) {
      rejected.push({ record, reason: `cannot decode Avro event: ${(error as Error).message}` });
    }
  }
  return { events, rejected };
}

export async function start(deps: ResolverDeps): Promise<ResolverService> {
  const logger = deps.logger.child({ component: 'resolver' });
  const written = deps.metrics.counter('cdp_resolver_events_written_total', 'Events written to ClickHouse');
  const deadLettered = deps.metrics.counter('cdp_resolver_events_dead_lettered_total', 'Events sent to the dead-letter topic');
  const groupId = deps.groupId ?? 'cdp-resolver';
  const links = await openLinkLog({ log: deps.log, topic: deps.topics.links, groupPrefix: `${groupId}-links`, logger });

  const consumer: LogConsumer = await deps.log.consume({
    groupId,
    topics: [deps.topics.events],
    maxBatchSize: deps.batchSize ?? 5000,
    async handleBatch(batch) {
      const { events, rejected } = decodeAll(batch.records);
      if (rejected.length > 0) {
        // A poison record must not stop the partition: park it with its reason, then move on.
        await deps.log.produce(
          deps.topics.deadLetter,
          rejected.map(({ record, reason }) => ({
            key: record.key ?? '',
            value: record.value,
            headers: { reason, topic: record.topic, partition: String(record.partition), offset: record.offset },
          })),
        );
        deadLettered.inc(rejected.length);
        logger.warn({ count: rejected.length, reason: rejected[0]?.reason }, 'events sent to the dead-letter topic');
      }
      // Throwing here leaves the offsets uncommitted, so the log delivers the batch again.
      written.inc(await writeResolved(deps.clickhouse, await resolveBatch(links, events)));
    },
  });
  logger.info('resolver consuming');
  return {
    async close() {
      await consumer.close();
      await links.close();
    },
  };
}
