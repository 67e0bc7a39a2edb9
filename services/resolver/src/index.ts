// The resolver service: reads events from the log, resolves each to a profile and writes them to ClickHouse.
import type { Logger } from 'pino';
import type { ClickHouseClient, EventLog, LogConsumer, Metrics } from '@cdp/runtime';
import type { TopicNames } from '@cdp/schemas';
import { decodeAll } from './decode';
import { openLinkLog } from './links';
import { resolveBatch } from './resolve';
import { createSnapshotStore } from './snapshots';
import { writeResolved } from './write';

export { profileIdOf, identifiersOf } from './identifiers';
export { createIdentityGraph, type GraphSnapshot } from './graph';

export interface ResolverDeps {
  log: EventLog;
  topics: TopicNames;
  clickhouse: ClickHouseClient;
  logger: Logger;
  metrics: Metrics;
  batchSize?: number;
  groupId?: string;
  /** Applied identity link records between snapshots of the identity graph. Default 100000. */
  snapshotEvery?: number;
}

export interface ResolverService {
  close(): Promise<void>;
}

export async function start(deps: ResolverDeps): Promise<ResolverService> {
  const logger = deps.logger.child({ component: 'resolver' });
  const written = deps.metrics.counter('cdp_resolver_events_written_total', 'Events written to ClickHouse');
  const deadLettered = deps.metrics.counter('cdp_resolver_events_dead_lettered_total', 'Events sent to the dead-letter topic');
  const groupId = deps.groupId ?? 'cdp-resolver';
  const links = await openLinkLog({
    log: deps.log,
    topic: deps.topics.links,
    groupPrefix: `${groupId}-links`,
    logger,
    metrics: deps.metrics,
    snapshots: createSnapshotStore(deps.clickhouse, logger),
    snapshotEvery: deps.snapshotEvery,
  });

  const consumer: LogConsumer = await deps.log.consume({
    groupId,
    topics: [deps.topics.events],
    maxBatchSize: deps.batchSize ?? 5000,
    async handleBatch(batch) {
      const { events, rejected } = decodeAll(batch.records);
      // Throwing here leaves the offsets uncommitted, so the log delivers the batch again.
      const resolved = await resolveBatch(links, events);
      written.inc(await writeResolved(deps.clickhouse, resolved));
      for (const { identifier, profileId } of resolved.identities) links.graph.markWritten(identifier, profileId);
      if (rejected.length > 0) {
        // A poison record must not stop the partition: park it with its reason, then move on. Parked only once the
        // batch's writes succeeded, so a batch delivered again after a failed write does not park it twice.
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
