// Starts the platform in-process for a suite, on the embedded runtime or on real Kafka, with ClickHouse isolated per start.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { DestinationStream, Logger } from 'pino';
import {
  createEventLog,
  createLogger,
  createMetrics,
  loadConfig,
  type Config,
  type EventLog,
  type Metrics,
} from '@cdp/runtime';
import { start as startDestinations } from '@cdp/destinations';
import { start as startResolver } from '@cdp/resolver';
import { topicNames } from '@cdp/schemas';
import { startPlatform, type Platform, type ServiceName } from '@cdp/cdp/platform';

export type RuntimeName = 'embedded' | 'kafka';
export const runtimes: RuntimeName[] = ['embedded', 'kafka'];

export interface TestPlatform {
  platform: Platform;
  url: string;
  writeKey: string;
  readKey: string;
  /** Holds every scope: segment writes and key management. */
  adminKey: string;
  config: Config;
  logger: Logger;
  close(): Promise<void>;
}

/** chDB allows one data directory per process, so every platform a test file starts shares it, each in its own database. */
export const chdbPath = path.join(os.tmpdir(), `cdp-test-chdb-${process.pid}`);

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The environment that points a platform (in-process or a child `cdp` process) at the chosen runtime. */
export function runtimeEnv(runtime: RuntimeName, dataDir: string): Record<string, string> {
  const env: Record<string, string> = {
    CDP_DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: uniqueName('cdp_test'),
    CDP_WRITE_KEY: uniqueName('wk_test'),
    CDP_READ_KEY: uniqueName('rk_test'),
    CDP_ADMIN_KEY: uniqueName('ak_test'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    CDP_TOPIC_PARTITIONS: '3',
    // A ClickHouse call without a name throws: every query a suite reaches is named.
    CDP_CLICKHOUSE_REQUIRE_NAMES: 'true',
  };
  if (process.env.CLICKHOUSE_URL) env.CLICKHOUSE_URL = process.env.CLICKHOUSE_URL;
  if (runtime === 'kafka') {
    env.KAFKA_BROKERS = inject('kafkaBrokers');
    // The Kafka client library the suites run on (kafkajs unless the run asks for the other one).
    if (process.env.CDP_KAFKA_CLIENT) env.CDP_KAFKA_CLIENT = process.env.CDP_KAFKA_CLIENT;
    // One broker serves every suite, so each platform gets topics and a consumer group of its own.
    env.CDP_TOPIC_PREFIX = `${uniqueName('t')}.`;
  }
  return env;
}

export async function startTestPlatform(
  runtime: RuntimeName,
  overrides: Record<string, string> = {},
  services?: ServiceName[],
  /** Where the platform's log lines go (standard output unless given). */
  logs?: DestinationStream,
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-test-'));
  const env: Record<string, string> = { ...runtimeEnv(runtime, dataDir), CDP_CHDB_PATH: chdbPath, ...overrides };
  const config = loadConfig(env);
  const logger = createLogger({
    level: env.LOG_LEVEL,
    name: `test-${runtime}`,
    ...(logs ? { destination: logs } : {}),
  });
  const platform = await startPlatform(config, logger, services);
  return {
    platform,
    url: platform.url as string,
    writeKey: env.CDP_WRITE_KEY as string,
    readKey: env.CDP_READ_KEY as string,
    adminKey: env.CDP_ADMIN_KEY as string,
    config,
    logger,
    async close() {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts `count` more instances of a service beside a test platform, each with an event-log client of its own. */
async function startExtras(
  cdp: TestPlatform,
  count: number,
  startOne: (log: EventLog) => Promise<{ close(): Promise<void> }>,
): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  for (let index = 0; index < count; index += 1) {
    const log = await createEventLog(cdp.config, cdp.logger);
    const service = await startOne(log);
    stops.push(async () => {
      await service.close();
      await log.close();
    });
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}

/**
 * Starts more resolver instances beside a test platform, each with an event-log client of its own, as separate
 * processes would run them; they share the platform's consumer group, so the partitions are split between them.
 */
export function startExtraResolvers(cdp: TestPlatform, count: number): Promise<() => Promise<void>> {
  return startExtras(cdp, count, (log) =>
    startResolver({
      log,
      topics: topicNames(cdp.config.topicPrefix),
      groupId: `${cdp.config.topicPrefix}cdp-resolver`,
      clickhouse: cdp.platform.clickhouse.client,
      logger: cdp.logger,
      metrics: createMetrics(),
      batchSize: cdp.config.resolverBatchSize,
      snapshotEvery: cdp.config.resolverSnapshotEvery,
      identityLimits: cdp.config.identityLimits,
      identityBlocklist: cdp.config.identityBlocklist,
      dedupe: cdp.config.dedupe,
      consentCategories: cdp.config.consentCategories,
    }),
  );
}

/**
 * Starts another destinations instance beside a test platform, with an event-log client and metrics of its own, in the
 * platform's consumer group: the two split the triggers, the due timers and the deliveries.
 */
export function startExtraDestinations(cdp: TestPlatform, metrics: Metrics): Promise<() => Promise<void>> {
  return startExtras(cdp, 1, (log) =>
    startDestinations({
      log,
      topics: topicNames(cdp.config.topicPrefix),
      groupId: `${cdp.config.topicPrefix}cdp-destinations`,
      clickhouse: cdp.platform.clickhouse.client,
      keys: cdp.platform.keys,
      logger: cdp.logger,
      metrics,
      config: cdp.config.destinations,
    }),
  );
}
