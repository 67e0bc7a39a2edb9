// Composes the services over real dependencies: all of them in one process (`cdp start`) or any one alone.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  applyRetention,
  consumerReadiness,
  createClickHouse,
  createEventLog,
  createHttpServer,
  createKeyStore,
  createMetrics,
  ensureInitialKeys,
  migrate,
  watchConsumers,
  type ClickHouse,
  type Config,
  type EventLog,
  type InitialKey,
  type KeyStore,
  type Metrics,
} from '@cdp/runtime';
import { clickhouseMigrationsDir, topicNames } from '@cdp/schemas';
import { ingestPlugin } from '@cdp/ingest';
import { queryApiPlugin } from '@cdp/query-api';
import { start as startResolver, type ResolverService } from '@cdp/resolver';
import { start as startSegments, type SegmentsService } from '@cdp/segments';
import { start as startDestinations, type DestinationsService } from '@cdp/destinations';

export type ServiceName = 'ingest' | 'resolver' | 'query-api' | 'segments' | 'destinations';
export const allServices: ServiceName[] = ['ingest', 'resolver', 'query-api', 'segments', 'destinations'];

export interface Platform {
  /** Base URL of the HTTP server (operations routes only when neither ingest nor the query API runs). */
  url: string;
  app: FastifyInstance;
  log: EventLog | null;
  clickhouse: ClickHouse;
  keys: KeyStore;
  metrics: Metrics;
  /** Keys created on this start because none existed: print them once. */
  createdKeys: Partial<Record<InitialKey, string>>;
  close(): Promise<void>;
}

/** Opens ClickHouse (timing its calls into `metrics` when given), applies migrations and the raw event retention. */
export async function openStore(
  config: Config,
  logger: Logger,
  metrics?: Metrics,
): Promise<{ clickhouse: ClickHouse; keys: KeyStore }> {
  const clickhouse = await createClickHouse(config.clickhouse, logger, metrics);
  try {
    await migrate(clickhouse.client, clickhouseMigrationsDir, logger, { cluster: config.clickhouse.cluster });
    await applyRetention(clickhouse.client, config.eventsRetentionDays, logger);
  } catch (error) {
    await clickhouse.close();
    throw error;
  }
  return { clickhouse, keys: createKeyStore(clickhouse.client) };
}

export async function startPlatform(
  config: Config,
  logger: Logger,
  services: ServiceName[] = allServices,
): Promise<Platform> {
  const metrics = createMetrics();
  const { clickhouse, keys } = await openStore(config, logger, metrics);
  const createdKeys = await ensureInitialKeys(keys, config.seedKeys);
  const needsLog = services.some((service) => service !== 'query-api');
  const log = needsLog ? await createEventLog(config, logger) : null;
  const topics = topicNames(config.topicPrefix);
  if (log) {
    const retentionMs = config.logRetentionMs;
    await log.ensureTopics([
      { name: topics.events, partitions: config.topicPartitions, retentionMs },
      { name: topics.deadLetter, partitions: 1, retentionMs },
      // Every resolver rebuilds its identity graph from this log (after a snapshot): no record may expire.
      { name: topics.links, partitions: 1, keepForever: true },
      { name: topics.segmentChanges, partitions: config.topicPartitions, retentionMs },
      { name: topics.segmentsLeader, partitions: 1, retentionMs },
      // One partition: the one segments evaluator follows it, and reads every change since its last batch at once.
      { name: topics.profileChanges, partitions: 1, retentionMs },
    ]);
  }

  let resolver: ResolverService | null = null;
  if (services.includes('resolver') && log) {
    resolver = await startResolver({
      log,
      topics,
      groupId: `${config.topicPrefix}cdp-resolver`,
      clickhouse: clickhouse.client,
      logger,
      metrics,
      batchSize: config.resolverBatchSize,
      snapshotEvery: config.resolverSnapshotEvery,
      identityLimits: config.identityLimits,
      identityBlocklist: config.identityBlocklist,
      dedupe: config.dedupe,
      consentCategories: config.consentCategories,
      trustAllSources: config.trustAllSources,
    });
  }

  let segments: SegmentsService | null = null;
  if (services.includes('segments') && log) {
    segments = await startSegments({
      log,
      topics,
      groupId: `${config.topicPrefix}cdp-segments`,
      clickhouse: clickhouse.client,
      logger,
      metrics,
      intervalMs: config.segmentsIntervalMs,
      follow: config.segmentsFollow,
      sweepEveryMs: config.segmentsSweepMs,
    });
  }

  let destinations: DestinationsService | null = null;
  if (services.includes('destinations') && log) {
    destinations = await startDestinations({
      log,
      topics,
      groupId: `${config.topicPrefix}cdp-destinations`,
      clickhouse: clickhouse.client,
      keys,
      logger,
      metrics,
      config: config.destinations,
    });
  }

  // Every process serves HTTP: the resolver and the segments evaluator alone answer only /healthz, /readyz, /metrics
  // and /openapi.json, so they can be probed and scraped like the others.
  const readiness: Record<string, () => Promise<boolean>> = { clickhouse: () => clickhouse.ready() };
  if (log) readiness.log = () => log.ready();
  // A consumer that stopped (Kafka gave up on it, or its handler failed beyond repair) makes the process not ready.
  if (log) watchConsumers(log, metrics);
  const currentReadiness = log ? consumerReadiness(log) : undefined;
  const app: FastifyInstance = await createHttpServer({
    logger,
    metrics,
    readiness,
    currentReadiness,
    trustProxy: config.trustedProxies,
  });
  if (services.includes('ingest') && log)
    await app.register(
      ingestPlugin({
        log,
        topics,
        keys,
        metrics,
        logger,
        limits: config.ingest,
        clientIp: config.clientIp,
        channels: config.channels,
      }),
    );
  if (services.includes('query-api'))
    await app.register(
      queryApiPlugin({
        clickhouse,
        keys,
        metrics,
        logger,
        limits: config.queryLimits,
        analyticsCacheSeconds: config.analyticsCacheSeconds,
      }),
    );
  if (destinations) await app.register(destinations.routes);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

  return {
    url,
    app,
    log,
    clickhouse,
    keys,
    metrics,
    createdKeys,
    // Order matters: stop taking requests (in-flight ones finish and their appends complete), then let the
    // resolver, the segments evaluator and the destinations finish and commit their batches, then close the log
    // and the store.
    async close() {
      await app.close();
      if (resolver) await resolver.close();
      if (segments) await segments.close();
      if (destinations) await destinations.close();
      if (log) await log.close();
      await clickhouse.close();
    },
  };
}
