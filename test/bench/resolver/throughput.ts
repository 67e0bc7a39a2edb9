// Child part: pre-produces N events on a fresh cdp.events topic, starts one resolver and times it until all are written.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createEventLog,
  createLogger,
  createMetrics,
  loadConfig,
  type ClickHouseClient,
  type EventLog,
  type Metrics,
} from '@cdp/runtime';
import { encodeEvent, topicNames } from '@cdp/schemas';
import { start } from '@cdp/resolver';
import { openStore } from '@cdp/cdp/platform';
import { report } from './child';
import { customerMessages, partitionKeyOf, toEventRecord } from './events';

export interface ThroughputResult {
  runtime: string;
  events: number;
  produceEventsPerSecond: number;
  eventsPerSecond: number;
  /** From start() to the first event written: consumer group join, first fetch, first link round trip. */
  firstWriteMs: number;
  batches: number;
  /** Share of the wall time the event handler ran; of its time, the share awaiting ClickHouse inserts and link round trips. */
  handlerBusy: number;
  insertShare: number;
  linkShare: number;
}

const produceChunk = 5000;

/**
 * Times what the resolver awaits, through the dependencies start() is given; nothing inside the resolver is touched.
 * A link round trip runs from the append to the links topic until the links consumer has applied those records.
 */
function timed(log: EventLog, client: ClickHouseClient, linksTopic: string) {
  const spent = { handlerMs: 0, insertMs: 0, linkRoundTripMs: 0, batches: 0 };
  const appends: Array<{ startedAt: number; records: number }> = [];
  const clock = async <T>(work: () => Promise<T>, add: (ms: number) => void): Promise<T> => {
    const began = performance.now();
    try {
      return await work();
    } finally {
      add(performance.now() - began);
    }
  };
  const linksApplied = (records: number) => {
    // Every record on this fresh links topic is one this resolver appended, in the order of the appends.
    for (let left = records; left > 0 && appends.length > 0;) {
      const oldest = appends[0]!;
      const taken = Math.min(left, oldest.records);
      oldest.records -= taken;
      left -= taken;
      if (oldest.records === 0) spent.linkRoundTripMs += performance.now() - appends.shift()!.startedAt;
    }
  };
  const timedLog: EventLog = {
    ...log,
    produce(topic, records) {
      if (topic === linksTopic) appends.push({ startedAt: performance.now(), records: records.length });
      return log.produce(topic, records);
    },
    consume: (options) =>
      log.consume({
        ...options,
        handleBatch: async (batch) => {
          if (batch.topic !== linksTopic) {
            return clock(
              () => options.handleBatch(batch),
              (ms) => {
                spent.handlerMs += ms;
                spent.batches += 1;
              },
            );
          }
          await options.handleBatch(batch);
          linksApplied(batch.records.length);
        },
      }),
  };
  const timedClient = new Proxy(client, {
    get(target, property) {
      if (property === 'insert') {
        return (params: Parameters<ClickHouseClient['insert']>[0]) =>
          clock(
            () => target.insert(params),
            (ms) => (spent.insertMs += ms),
          );
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { spent, timedLog, timedClient };
}

/** Events the resolver is done with: written, or dropped as a later copy of a messageId (about 3% of the data). */
async function handled(metrics: Metrics): Promise<number> {
  let done = 0;
  for (const name of ['cdp_resolver_events_written_total', 'cdp_resolver_events_duplicate_total']) {
    const counter = metrics.registry.getSingleMetric(name);
    if (counter) done += (await counter.get()).values.reduce((sum, entry) => sum + entry.value, 0);
  }
  return done;
}

async function measure(runtime: 'kafka' | 'embedded', count: number): Promise<ThroughputResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-resolver-'));
  const config = loadConfig({
    CDP_DATA_DIR: dataDir,
    CDP_TOPIC_PREFIX: `bench${process.pid}.`,
    // Compared runs set it: how many connections chDB's calls share.
    CDP_CHDB_CONNECTIONS: process.env.CDP_CHDB_CONNECTIONS,
    ...(runtime === 'kafka' ? { KAFKA_BROKERS: process.env.KAFKA_BROKERS } : {}),
  });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench-resolver' });
  const topics = topicNames(config.topicPrefix);
  const { clickhouse } = await openStore(config, logger);
  const closers: Array<() => Promise<void>> = [() => clickhouse.close()];
  try {
    // Kafka: the producer is a client of its own, gone before the resolver starts, as ingest would be another process.
    const producerLog = await createEventLog(config, logger);
    closers.unshift(() => producerLog.close());
    await producerLog.ensureTopics([
      { name: topics.events, partitions: config.topicPartitions },
      { name: topics.deadLetter, partitions: 1 },
      { name: topics.links, partitions: 1, keepForever: true },
      { name: topics.profileChanges, partitions: 1 },
    ]);
    const receivedAt = Date.now();
    const records = customerMessages(count, `r${runtime}${process.pid}`).map((message) => {
      const event = toEventRecord(message, receivedAt);
      return { key: partitionKeyOf(event), value: encodeEvent(event) };
    });
    const produceStarted = performance.now();
    for (let offset = 0; offset < records.length; offset += produceChunk) {
      await producerLog.produce(topics.events, records.slice(offset, offset + produceChunk));
    }
    const produceSeconds = (performance.now() - produceStarted) / 1000;
    let log = producerLog;
    if (runtime === 'kafka') {
      await producerLog.close();
      log = await createEventLog(config, logger);
      closers.unshift(() => log.close());
    }

    const metrics = createMetrics();
    const { spent, timedLog, timedClient } = timed(log, clickhouse.client, topics.links);
    const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600) * 1000;
    const started = performance.now();
    const resolver = await start({
      log: timedLog,
      topics,
      clickhouse: timedClient,
      logger,
      metrics,
      batchSize: config.resolverBatchSize,
      groupId: `bench${process.pid}-resolver`,
    });
    closers.unshift(() => resolver.close());
    let firstWriteMs = Number.NaN;
    for (;;) {
      const done = await handled(metrics);
      if (done > 0 && Number.isNaN(firstWriteMs)) firstWriteMs = performance.now() - started;
      if (done >= records.length) break;
      if (Date.now() > deadline)
        throw new Error(`only ${done} of ${records.length} events written before the deadline`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      runtime,
      events: records.length,
      produceEventsPerSecond: Math.round(records.length / produceSeconds),
      eventsPerSecond: Math.round(records.length / seconds),
      firstWriteMs: Math.round(firstWriteMs),
      batches: spent.batches,
      handlerBusy: spent.handlerMs / (seconds * 1000),
      insertShare: spent.insertMs / spent.handlerMs,
      linkShare: spent.linkRoundTripMs / spent.handlerMs,
    };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const runtime = process.argv[2] === 'kafka' ? 'kafka' : 'embedded';
report(await measure(runtime, Number(process.env.BENCH_EVENTS ?? 200_000)));
// kafkajs and chDB keep handles a moment after close; the parent is waiting for the exit.
process.exit(0);
