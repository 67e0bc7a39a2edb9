// `pnpm bench kafka`: the event log's Kafka adapter on kafkajs and on @platformatic/kafka, side by side on one broker,
// with the embedded log as the baseline: idempotent acks=all produce, then consume-and-commit of what was produced.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { kafkaLogOn, openEmbeddedLog, type EventLog, type KafkaClient, type LogRecord } from '@cdp/runtime';
import { startLocalKafka } from '../../infra/kafka/local-kafka';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const producers = Number(process.env.BENCH_PRODUCERS ?? 10);
const batchSize = 100;
const valueBytes = 300;
/** One caller's calls of this many records, as a segment evaluation publishes its changes: 100-byte values, two headers. */
const bulkSize = 5000;
const partitions = 4;
const logger = pino({ level: 'warn', name: 'bench-kafka' });

interface Row {
  client: string;
  produceEventsPerSecond: number;
  produceP50: number;
  produceP99: number;
  singleP99: number;
  bulkEventsPerSecond: number;
  consumeEventsPerSecond: number;
}

const payload = Buffer.alloc(valueBytes, 'x');

const bulkValue = Buffer.alloc(100, 'y');
const bulkHeaders = { segmentId: 'bench-segment', change: 'entered' };

function bulkRecords(round: number): LogRecord[] {
  return Array.from({ length: bulkSize }, (_, index) => ({
    key: `profile-${round * bulkSize + index}`,
    value: bulkValue,
    headers: bulkHeaders,
  }));
}

function records(count: number, round: number): LogRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    key: `user-${(round * count + index) % 1000}`,
    value: payload,
    headers: { type: 'track' },
  }));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** `callers` concurrent callers each sending the batches `batchOf` makes for `durationMs`; latency per produce call. */
async function produceFor(
  log: EventLog,
  topic: string,
  batchOf: (round: number) => LogRecord[],
  durationMs: number,
  callers = producers,
): Promise<{ sent: number; latencies: number[]; elapsedMs: number }> {
  const latencies: number[] = [];
  let sent = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: callers }, async (_, producer) => {
      for (let round = 0; performance.now() < deadline; round += 1) {
        const batch = batchOf(round * callers + producer);
        const before = performance.now();
        await log.produce(topic, batch);
        latencies.push(performance.now() - before);
        sent += batch.length;
      }
    }),
  );
  return { sent, latencies: latencies.sort((a, b) => a - b), elapsedMs: performance.now() - started };
}

async function measure(client: string, log: EventLog): Promise<Row> {
  const topic = `bench-${client.replace(/[^A-Za-z0-9]+/g, '-')}-${randomBytes(4).toString('hex')}`;
  const singles = `${topic}-single`;
  await log.ensureTopics([
    { name: topic, partitions },
    { name: singles, partitions },
  ]);
  // Warm-up: connections, metadata, the idempotent producer id.
  await log.produce(singles, records(1, 0));
  const batched = await produceFor(log, topic, (round) => records(batchSize, round), seconds * 1000);
  const single = await produceFor(log, singles, (round) => records(1, round), Math.max(1, seconds / 2) * 1000);
  const bulk = await produceFor(log, singles, bulkRecords, seconds * 1000, 1);

  let handled = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const started = performance.now();
  const consumer = await log.consume({
    groupId: `${topic}-readers`,
    topics: [topic],
    handleBatch: async (batch) => {
      handled += batch.records.length;
      if (handled >= batched.sent) finished();
    },
  });
  await done;
  const consumeMs = performance.now() - started;
  await consumer.close();
  return {
    client,
    produceEventsPerSecond: Math.round(batched.sent / (batched.elapsedMs / 1000)),
    produceP50: Number(percentile(batched.latencies, 50).toFixed(1)),
    produceP99: Number(percentile(batched.latencies, 99).toFixed(1)),
    singleP99: Number(percentile(single.latencies, 99).toFixed(1)),
    bulkEventsPerSecond: Math.round(bulk.sent / (bulk.elapsedMs / 1000)),
    consumeEventsPerSecond: Math.round(batched.sent / (consumeMs / 1000)),
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-log-'));
  try {
    const embedded = await openEmbeddedLog({ dir, logger });
    rows.push(await measure('embedded (baseline)', embedded));
    await embedded.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const kafka = process.env.KAFKA_BROKERS
    ? { brokers: process.env.KAFKA_BROKERS, stop: async () => undefined }
    : await startLocalKafka();
  try {
    for (const client of ['kafkajs', 'platformatic'] satisfies KafkaClient[]) {
      const log = kafkaLogOn(client)({ brokers: kafka.brokers.split(','), clientId: `bench-${client}`, logger });
      try {
        rows.push(await measure(client === 'platformatic' ? '@platformatic/kafka' : client, log));
      } finally {
        await log.close();
      }
    }
  } finally {
    await kafka.stop();
  }

  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `\nevent-log benchmark: ${seconds} s of produce per client, ${producers} concurrent producers, ${partitions} partitions, ${valueBytes}-byte values, ${os.cpus().length} cores, Node ${process.version}`,
  );
  out('produce: idempotent, acks=all, awaited per call; consume: one consumer group, commit after every batch');
  out(
    `produce(${bulkSize}): one caller, 100-byte values with two headers (a segment evaluation publishing its changes)\n`,
  );
  out(
    `| client | produce(${batchSize}) events/s | produce(${batchSize}) p50 ms | produce(${batchSize}) p99 ms | produce(1) p99 ms | produce(${bulkSize}) events/s | consume+commit events/s |`,
  );
  out('|---|---|---|---|---|---|---|');
  for (const row of rows) {
    out(
      `| ${row.client} | ${row.produceEventsPerSecond} | ${row.produceP50} | ${row.produceP99} | ${row.singleP99} | ${row.bulkEventsPerSecond} | ${row.consumeEventsPerSecond} |`,
    );
  }
}

await main();
