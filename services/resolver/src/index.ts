// The resolver service: reads events from the log, resolves each to a profile and writes them to ClickHouse.
import type { Logger } from 'pino';
import { identifierSalt, openSuppressions, pseudonymiser } from '@cdp/privacy';
import type { ClickHouseClient, EventLog, LogConsumer, Metrics } from '@cdp/runtime';
import type { IdentifierType, TopicNames } from '@cdp/schemas';
import { profileChangesOf, publishProfileChanges } from './changes';
import { consentRule } from './consent';
import { decodeAll, type DecodedEvent } from './decode';
import { createDedupeWindow, type DedupeOptions } from './dedupe';
import { blocklist } from './identifiers';
import { openLinkLog } from './links';
import { resolveBatch } from './resolve';
import { createSnapshotStore } from './snapshots';
import { groupCommit } from './write';

export { blocklist, profileIdOf, identifiersOf } from './identifiers';
export { createIdentityGraph, type GraphSnapshot } from './graph';
export { eventColumns, eventValues } from './write';

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
  /** The most identifiers of each type one profile may gather; every resolver on one log must use the same. */
  identityLimits?: Partial<Record<IdentifierType, number>>;
  /** Emails and phones that name nobody, besides the built-in placeholders: left out of every event's identifiers. */
  identityBlocklist?: string[];
  /** Consent categories the platform needs (`context.consent.categoryPreferences`); default Analytics. */
  consentCategories?: string[];
  /** How long, and how many, stored messageIds are remembered so a retry's later copy is dropped. Default 24 h, 500,000. */
  dedupe?: DedupeOptions;
  /** Link profiles by the emails and phones of every source's events, not only trusted sources' (CDP_TRUST_ALL_SOURCES). */
  trustAllSources?: boolean;
}

/** How long a scrape waits for the log's end offsets before it reports the lag last read. */
const lagReadTimeoutMs = 2000;
/** How often suppressions are read again: an erasure waits longer than this before it deletes. */
const suppressionRefreshMs = 1000;

export interface ResolverService {
  close(): Promise<void>;
}

export async function start(deps: ResolverDeps): Promise<ResolverService> {
  const logger = deps.logger.child({ component: 'resolver' });
  const written = deps.metrics.counter('cdp_resolver_events_written_total', 'Events written to ClickHouse');
  const deadLettered = deps.metrics.counter(
    'cdp_resolver_events_dead_lettered_total',
    'Events sent to the dead-letter topic',
  );
  const dropped = deps.metrics.counter(
    'cdp_resolver_events_suppressed_total',
    'Events dropped because they carry a suppressed identifier',
  );
  const withoutConsent = deps.metrics.counter(
    'cdp_resolver_events_without_consent_total',
    'Events dropped because their consent denies a category the platform needs',
  );
  const denied = consentRule(deps.consentCategories ?? ['Analytics']);
  const duplicates = deps.metrics.counter(
    'cdp_resolver_events_duplicate_total',
    'Later copies of a messageId stored within the dedupe window, dropped',
  );
  const profileChanges = deps.metrics.counter(
    'cdp_resolver_profile_changes_total',
    'Profile change records produced, one per survivor a written batch changed',
  );
  // Starts empty: after a crash a batch is delivered again and must be written whole again, because ClickHouse may
  // hold its events without what the materialized views make of them. Identical copies count once in every table.
  const dedupe = createDedupeWindow(deps.dedupe ?? { windowMs: 24 * 3_600_000, maxIds: 500_000 });
  const suppressions = await openSuppressions(deps.clickhouse);
  const refreshing = setInterval(() => {
    suppressions
      .refresh()
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'suppressions could not be read again; the last read stays'),
      );
  }, suppressionRefreshMs);
  refreshing.unref();
  const freshness = deps.metrics.histogram(
    'cdp_resolver_freshness_seconds',
    'Seconds from ingest receiving an event to the resolver writing it to ClickHouse',
    [],
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  );
  // Per partition of the events topic this instance has written, the offset after its last written record. The lag is
  // read against the log's end offsets at each scrape, so a resolver that stopped writing shows a growing lag.
  const writtenUpTo = new Map<number, bigint>();
  deps.metrics.gauge(
    'cdp_resolver_lag_records',
    'Records of the events topic after the last one this resolver wrote, per partition it has written (read at each scrape)',
    ['partition'],
    async (gauge) => {
      if (writtenUpTo.size === 0) return gauge.reset();
      // A scrape must neither fail nor wait with the log (Kafka retries for long in an outage): the last read stays.
      let timer: NodeJS.Timeout | undefined;
      const ends = await Promise.race([
        deps.log.endOffsets(deps.topics.events),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), lagReadTimeoutMs))),
      ])
        .catch((error: unknown) => logger.debug({ err: error }, 'end offsets unreadable for the lag'))
        .finally(() => clearTimeout(timer));
      if (!ends) return;
      gauge.reset();
      for (const [partition, next] of writtenUpTo) {
        const end = ends[partition];
        if (end !== undefined) gauge.set({ partition: String(partition) }, Math.max(0, Number(BigInt(end) - next)));
      }
    },
  );
  const groupId = deps.groupId ?? 'cdp-resolver';
  const links = await openLinkLog({
    log: deps.log,
    topic: deps.topics.links,
    groupPrefix: `${groupId}-links`,
    logger,
    metrics: deps.metrics,
    snapshots: createSnapshotStore(deps.clickhouse, logger),
    snapshotEvery: deps.snapshotEvery,
    graph: { limits: deps.identityLimits ?? {} },
    // Link records and the graph hold pseudonyms under the installation's salt, the same in every resolver.
    pseudonymise: pseudonymiser(await identifierSalt(deps.clickhouse)),
  });
  const blocked = blocklist(deps.identityBlocklist);
  // The partitions' batches, written together when they arrive together.
  const write = groupCommit(deps.clickhouse);

  const consumer: LogConsumer = await deps.log.consume({
    groupId,
    topics: [deps.topics.events],
    maxBatchSize: deps.batchSize ?? 5000,
    async handleBatch(batch) {
      const { events: decoded, rejected } = decodeAll(batch.records, {
        blocked,
        trustAllSources: deps.trustAllSources ?? false,
      });
      // An event carrying a suppressed identifier reaches no profile, now or when the log is replayed.
      const consented = decoded.filter(({ event }) => !denied(event.context));
      if (consented.length < decoded.length) withoutConsent.inc(decoded.length - consented.length);
      const allowed = consented.filter(({ named }) => !suppressions.suppressed(named));
      if (allowed.length < consented.length) dropped.inc(consented.length - allowed.length);
      // The first copy of a messageId wins: a later one (a retry dated later, a replayed batch) is dropped.
      const messageIds = new Set<string>();
      const events: DecodedEvent[] = [];
      for (const decodedEvent of allowed) {
        const { messageId } = decodedEvent.event;
        if (messageIds.has(messageId) || dedupe.seen(messageId)) continue;
        messageIds.add(messageId);
        events.push(decodedEvent);
      }
      if (events.length < allowed.length) duplicates.inc(allowed.length - events.length);
      // Throwing here leaves the offsets uncommitted, so the log delivers the batch again.
      const resolved = await resolveBatch(links, events);
      const writtenCount = await write(resolved);
      const writtenAt = Date.now();
      // ClickHouse has the batch, so a consumer that reads it on receipt of a change finds the rows. Produced before
      // the handler returns and before anything is marked written or remembered: a failed produce or a crash before
      // the offsets commit handles the batch again and produces its changes again (at least once, never lost).
      const changes = profileChangesOf(resolved, writtenAt);
      await publishProfileChanges(deps.log, deps.topics.profileChanges, changes);
      profileChanges.inc(changes.length);
      // Counted once the batch is done with, so a batch handled again after a failed produce counts once.
      written.inc(writtenCount);
      dedupe.remember(messageIds);
      for (const { event } of resolved.events) freshness.observe(Math.max(0, writtenAt - event.receivedAt) / 1000);
      const last = batch.records.at(-1);
      if (last) writtenUpTo.set(batch.partition, BigInt(last.offset) + 1n);
      for (const { identifier, profileId } of resolved.identities) links.graph.markWritten(identifier, profileId);
      for (const merge of resolved.merges) merge.markWritten();
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
      clearInterval(refreshing);
      await consumer.close();
      await links.close();
      writtenUpTo.clear();
    },
  };
}
