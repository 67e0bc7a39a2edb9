// The Kafka EventLog against a real broker: key placement and order, commits across consumers, re-delivery after a failure.
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes, ConfigSource, Kafka, logLevel } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../poll';
import { kafkaLogOn } from './index';
import type { ConsumedRecord, EventLog, LogConsumer, RecordBatch } from './types';

/** The client library under test: kafkajs unless CDP_KAFKA_CLIENT=platformatic. */
const createKafkaLog = kafkaLogOn(process.env.CDP_KAFKA_CLIENT === 'platformatic' ? 'platformatic' : 'kafkajs');

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

interface Broker {
  brokers: string;
  stop(): Promise<void>;
}

/**
 * The run's broker from test/harness/global-setup.ts when there is one; else this file starts its own through the
 * harness. The harness path is computed so that tsc, whose runtime project cannot include files from test/, skips it.
 */
async function broker(): Promise<Broker> {
  const shared = inject('kafkaBrokers');
  if (shared) return { brokers: shared, stop: async () => undefined };
  const harness = new URL('../../../../test/harness/kafka.ts', import.meta.url).href;
  const { provideKafka } = (await import(harness)) as { provideKafka: (logger: Logger) => Promise<Broker> };
  return provideKafka(logger);
}

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', name: 'kafka-log-test' });

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

function text(record: ConsumedRecord): string {
  return record.value.toString('utf8');
}

/** Collects every delivered batch; `records` flattens them in delivery order. */
function collector(): {
  batches: RecordBatch[];
  records: () => ConsumedRecord[];
  handleBatch: (batch: RecordBatch) => Promise<void>;
} {
  const batches: RecordBatch[] = [];
  return {
    batches,
    records: () => batches.flatMap((batch) => batch.records),
    handleBatch: async (batch) => {
      batches.push(batch);
    },
  };
}

describe('Kafka event log', { timeout: 120_000 }, () => {
  let kafka: Broker;
  let log: EventLog;
  const consumers: LogConsumer[] = [];

  beforeAll(async () => {
    kafka = await broker();
    log = createKafkaLog({ brokers: kafka.brokers.split(','), clientId: 'runtime-kafka-test', logger });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.close()));
    await log?.close();
    await kafka?.stop();
  });

  it('creates a topic that keeps its records for ever when asked, and one with the broker default otherwise', async () => {
    const forever = uniqueName('links');
    const ordinary = uniqueName('events');
    await log.ensureTopics([
      { name: forever, partitions: 1, keepForever: true },
      { name: ordinary, partitions: 1 },
    ]);
    const admin = new Kafka({
      brokers: kafka.brokers.split(','),
      clientId: 'runtime-kafka-test-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [forever, ordinary].map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['retention.ms'],
        })),
      });
      const retention = Object.fromEntries(
        described.resources.map((resource) => [
          resource.resourceName,
          resource.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue,
        ]),
      );
      expect(retention[forever]).toBe('-1');
      expect(retention[ordinary]).not.toBe('-1');
    } finally {
      await admin.disconnect();
    }
  });

  it("sets a topic's retention on creation and changes it on an existing topic, keeping its other settings", async () => {
    const topic = uniqueName('retained');
    await log.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    const admin = new Kafka({
      brokers: kafka.brokers.split(','),
      clientId: 'runtime-kafka-test-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    const settings = async () => {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      });
      const entries = described.resources[0]?.configEntries ?? [];
      const own = entries
        .filter((entry) => entry.configSource === ConfigSource.TOPIC_CONFIG)
        .map((entry) => [entry.configName, entry.configValue]);
      return Object.fromEntries(own) as Record<string, string>;
    };
    try {
      const created = await settings();
      expect(created['retention.ms']).toBe('3600000');
      expect(created['min.insync.replicas']).toBeDefined();
      await log.ensureTopics([{ name: topic, partitions: 1, retentionMs: 7_200_000 }]);
      // The broker applies a changed topic config once the controller's metadata reaches it: moments later, not at once.
      const changed = JSON.stringify({ ...created, 'retention.ms': '7200000' });
      await waitFor(async () => JSON.stringify(await settings()) === changed, {
        timeoutMs: 10_000,
        what: 'the changed retention to reach the broker',
      });
      expect(await settings()).toEqual({ ...created, 'retention.ms': '7200000' });
      // Asked again with the same retention, nothing changes.
      await log.ensureTopics([{ name: topic, partitions: 1, retentionMs: 7_200_000 }]);
      expect(await settings()).toEqual({ ...created, 'retention.ms': '7200000' });
    } finally {
      await admin.disconnect();
    }
  });

  it('takes records for every partition of a new topic from many callers at once', async () => {
    // Right after CreateTopics a broker may refuse a partition it does not lead yet: ensureTopics waits until every
    // partition's leader answers, so no call is refused (kafkajs unpatched broke the sequence of the others then).
    for (let round = 0; round < 8; round += 1) {
      const topic = uniqueName('fresh');
      await log.ensureTopics([{ name: topic, partitions: 4 }]);
      const sent = await Promise.allSettled(
        Array.from({ length: 10 }, (_, caller) =>
          log.produce(
            topic,
            Array.from({ length: 20 }, (_, index) => ({ key: `k${caller}-${index}`, value: Buffer.from('x') })),
          ),
        ),
      );
      expect(sent.filter((result) => result.status === 'rejected')).toEqual([]);
    }
  });

  it('is ready when the broker takes writes', async () => {
    expect(await log.ready()).toBe(true);
  });

  it('delivers every record of a key from one partition, in the order it was produced', async () => {
    const topic = uniqueName('orders');
    await log.ensureTopics([{ name: topic, partitions: 3 }]);
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
    const rounds = 5;
    for (let round = 0; round < rounds; round += 1) {
      await log.produce(
        topic,
        keys.map((key) => ({ key, value: Buffer.from(`${key}:${round}`), headers: { round: String(round) } })),
      );
    }

    const seen = collector();
    consumers.push(
      await log.consume({
        groupId: uniqueName('order-readers'),
        topics: [topic],
        handleBatch: seen.handleBatch,
        maxBatchSize: 7,
      }),
    );
    await waitFor(() => seen.records().length >= keys.length * rounds, { timeoutMs: 60_000, what: 'all records' });

    const records = seen.records();
    expect(records).toHaveLength(keys.length * rounds);
    expect(Math.max(...seen.batches.map((batch) => batch.records.length))).toBeLessThanOrEqual(7);
    for (const batch of seen.batches) {
      expect(batch.records.every((record) => record.partition === batch.partition && record.topic === topic)).toBe(
        true,
      );
    }
    for (const key of keys) {
      const ofKey = records.filter((record) => record.key === key);
      expect(ofKey.map(text)).toEqual(Array.from({ length: rounds }, (_, round) => `${key}:${round}`));
      expect(ofKey.map((record) => record.headers.round)).toEqual(
        Array.from({ length: rounds }, (_, round) => String(round)),
      );
      expect(new Set(ofKey.map((record) => record.partition)).size).toBe(1);
    }
    // Eight keys hashed over three partitions: more than one partition is in use, so the check above means something.
    expect(new Set(records.map((record) => record.partition)).size).toBeGreaterThan(1);
  });

  it('puts a key on the same partition whichever producer writes it', async () => {
    const topic = uniqueName('profiles');
    await log.ensureTopics([{ name: topic, partitions: 3 }]);
    const otherLog = createKafkaLog({ brokers: kafka.brokers.split(','), clientId: 'runtime-kafka-test-2', logger });
    const keys = Array.from({ length: 12 }, (_, index) => `user-${index}`);
    try {
      await log.produce(
        topic,
        keys.map((key) => ({ key, value: Buffer.from('first') })),
      );
      await otherLog.produce(
        topic,
        keys.map((key) => ({ key, value: Buffer.from('second') })),
      );
    } finally {
      await otherLog.close();
    }

    const seen = collector();
    consumers.push(
      await log.consume({ groupId: uniqueName('profile-readers'), topics: [topic], handleBatch: seen.handleBatch }),
    );
    await waitFor(() => seen.records().length >= keys.length * 2, {
      timeoutMs: 60_000,
      what: 'both producers’ records',
    });

    for (const key of keys) {
      const ofKey = seen.records().filter((record) => record.key === key);
      expect(ofKey.map(text)).toEqual(['first', 'second']);
      expect(new Set(ofKey.map((record) => record.partition)).size).toBe(1);
    }
  });

  it('resumes a group after its committed offset: nothing delivered twice, nothing lost', async () => {
    // One partition: a re-delivered old record would arrive before the new ones, so seeing all new ones proves its absence.
    const topic = uniqueName('events');
    const groupId = uniqueName('event-writers');
    await log.ensureTopics([{ name: topic, partitions: 1 }]);
    const before = Array.from({ length: 6 }, (_, index) => `before-${index}`);
    const after = Array.from({ length: 6 }, (_, index) => `after-${index}`);

    await log.produce(
      topic,
      before.map((value) => ({ key: 'k', value: Buffer.from(value) })),
    );
    const first = collector();
    const firstConsumer = await log.consume({
      groupId,
      topics: [topic],
      handleBatch: first.handleBatch,
      maxBatchSize: 2,
    });
    await waitFor(() => first.records().length >= before.length, { timeoutMs: 60_000, what: 'the first consumer' });
    await firstConsumer.close();

    await log.produce(
      topic,
      after.map((value) => ({ key: 'k', value: Buffer.from(value) })),
    );
    const second = collector();
    consumers.push(await log.consume({ groupId, topics: [topic], handleBatch: second.handleBatch }));
    await waitFor(() => second.records().some((record) => text(record) === after[after.length - 1]), {
      timeoutMs: 60_000,
      what: 'the second consumer',
    });

    expect(first.records().map(text)).toEqual(before);
    expect(second.records().map(text)).toEqual(after);
    expect(second.records()[0]?.offset).toBe(String(before.length));
  });

  it("reports each member's partitions: split between two members without overlap, all to the one left", async () => {
    const topic = uniqueName('shared');
    const groupId = uniqueName('sharers');
    await log.ensureTopics([{ name: topic, partitions: 4 }]);
    const handleBatch = async () => undefined;
    const first = await log.consume({ groupId, topics: [topic], handleBatch });
    consumers.push(first);
    await waitFor(() => first.assignment()?.[topic]?.length === 4, { timeoutMs: 60_000, what: 'the first join' });
    const second = await log.consume({ groupId, topics: [topic], handleBatch });
    const held = () => [...(first.assignment()?.[topic] ?? []), ...(second.assignment()?.[topic] ?? [])];
    await waitFor(() => (second.assignment()?.[topic]?.length ?? 0) > 0 && held().length === 4, {
      timeoutMs: 60_000,
      what: 'the split',
    });
    expect(held().sort()).toEqual([0, 1, 2, 3]);
    expect(first.assignment()?.[topic]?.length).toBeGreaterThan(0);
    await second.close();
    expect(second.assignment()).toEqual({});
    await waitFor(() => first.assignment()?.[topic]?.length === 4, { timeoutMs: 60_000, what: 'the rejoin' });
  });

  it('starts a group that committed nothing at its start offsets, delivers nothing before them, and lets a commit win later', async () => {
    const topic = uniqueName('links');
    await log.ensureTopics([{ name: topic, partitions: 2 }]);
    await log.produce(
      topic,
      Array.from({ length: 40 }, (_, index) => ({ key: `k${index % 8}`, value: Buffer.from(`m${index}`) })),
    );
    const everything = collector();
    consumers.push(
      await log.consume({ groupId: uniqueName('full-readers'), topics: [topic], handleBatch: everything.handleBatch }),
    );
    await waitFor(() => everything.records().length >= 40, { timeoutMs: 60_000, what: 'all 40 records' });
    const ofPartition = (records: ConsumedRecord[], partition: number) =>
      records.filter((record) => record.partition === partition);
    // End offsets counted from what a full read delivered, not from the broker's own numbers.
    expect(await log.endOffsets(topic)).toEqual({
      0: String(ofPartition(everything.records(), 0).length),
      1: String(ofPartition(everything.records(), 1).length),
    });
    const start = 3;
    expect(ofPartition(everything.records(), 0).length).toBeGreaterThan(start);

    const groupId = uniqueName('restored-readers');
    const restored = collector();
    const first = await log.consume({
      groupId,
      topics: [topic],
      startOffsets: { [topic]: { 0: String(start) } },
      handleBatch: restored.handleBatch,
      maxBatchSize: 2,
    });
    await waitFor(() => restored.records().length >= 40 - start, {
      timeoutMs: 60_000,
      what: 'the records from the start offsets on',
    });
    await first.close();
    // Closed, it has committed everything it read; a group that never committed has nothing.
    expect(await log.committedOffsets(groupId, topic)).toEqual(await log.endOffsets(topic));
    expect(await log.committedOffsets(uniqueName('idle-readers'), topic)).toEqual({});
    expect(restored.batches.find((batch) => batch.partition === 0)?.records[0]?.offset).toBe(String(start));
    expect(ofPartition(restored.records(), 0).map(text)).toEqual(
      ofPartition(everything.records(), 0).slice(start).map(text),
    );
    expect(ofPartition(restored.records(), 1).map(text)).toEqual(ofPartition(everything.records(), 1).map(text));

    // The group has committed now: a start offset no longer moves it.
    await log.produce(topic, [{ key: 'k0', value: Buffer.from('later') }]);
    const resumed = collector();
    consumers.push(
      await log.consume({
        groupId,
        topics: [topic],
        startOffsets: { [topic]: { 0: '0', 1: '0' } },
        handleBatch: resumed.handleBatch,
      }),
    );
    await waitFor(() => resumed.records().length >= 1, {
      timeoutMs: 60_000,
      what: 'the record after the committed ones',
    });
    expect(resumed.records().map(text)).toEqual(['later']);
  });

  it('delivers the same records again after the handler fails, and commits them once it succeeds', async () => {
    const topic = uniqueName('retries');
    await log.ensureTopics([{ name: topic, partitions: 1 }]);
    const values = Array.from({ length: 5 }, (_, index) => `value-${index}`);
    await log.produce(
      topic,
      values.map((value) => ({ key: 'k', value: Buffer.from(value) })),
    );

    const groupId = uniqueName('flaky-writers');
    const attempts: string[][] = [];
    const handled: string[] = [];
    const flaky = await log.consume({
      groupId,
      topics: [topic],
      handleBatch: async (batch) => {
        attempts.push(batch.records.map(text));
        if (attempts.length === 1) throw new Error('ClickHouse is away (simulated)');
        handled.push(...batch.records.map(text));
      },
    });
    await waitFor(() => handled.length >= values.length, { timeoutMs: 60_000, what: 'the retried records' });
    await flaky.close();

    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(handled).toEqual(values);

    // Committed after the successful retry: the group's next consumer starts after them.
    await log.produce(topic, [{ key: 'k', value: Buffer.from('later') }]);
    const next = collector();
    consumers.push(await log.consume({ groupId, topics: [topic], handleBatch: next.handleBatch }));
    await waitFor(() => next.records().length >= 1, { timeoutMs: 60_000, what: 'the record after the retried ones' });
    expect(next.records().map(text)).toEqual(['later']);
  });
});

// kafkajs' idempotent producer as patched at install (patches/kafkajs@2.2.4.patch), used directly: ensureTopics keeps
// the log from producing to a new topic before its leaders answer, but a leader can move in a cluster of brokers.
describe("kafkajs' idempotent producer", { timeout: 120_000 }, () => {
  it('keeps the records and sequence numbers of the partitions that took them when another partition refused', async () => {
    const kafka = await broker();
    // A request refused (for some or all of its partitions) and sent again shows as this error log of kafkajs. One broker
    // here: a leader moving to another broker, and one broker's request failing while another's is under way, are not.
    let sentAgain = 0;
    const client = new Kafka({
      brokers: kafka.brokers.split(','),
      clientId: 'kafkajs-sequences-test',
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => {
        if (entry.log.message.startsWith('Failed to send messages')) sentAgain += 1;
      },
    });
    const admin = client.admin();
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = client.consumer({ groupId: uniqueName('sequence-readers') });
    const callers = 10;
    const perCall = 20;
    const topics: string[] = [];
    const expected: string[] = [];
    try {
      await admin.connect();
      await producer.connect();
      // Rounds until some request was refused and sent again (most rounds have one), at least four.
      for (let round = 0; round < 4 || (sentAgain === 0 && round < 40); round += 1) {
        const topic = uniqueName('unled');
        topics.push(topic);
        // Not waiting for leaders: the broker takes a request for the partitions it leads and refuses the others.
        await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: false });
        const sendAll = (send: number) =>
          Promise.allSettled(
            Array.from({ length: callers }, (_, caller) => {
              const values = Array.from({ length: perCall }, (_, index) => `${topic}/${send}/${caller}/${index}`);
              expected.push(...values);
              return producer.send({ topic, messages: values.map((value) => ({ key: value, value })) });
            }),
          );
        // Unpatched, a request refused in part took back every partition's sequence numbers: the partitions that had
        // taken their records refused every later one (out of order), and records were written twice or dropped.
        const results = [...(await sendAll(0)), ...(await sendAll(1))];
        expect(results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []))).toEqual([]);
      }
      expect(sentAgain).toBeGreaterThan(0);

      // Every record on the topics once: as many as were sent, each of them.
      const offsets = await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
      expect(offsets.flat().reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(expected.length);
      const read: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          read.push(String(message.value));
        },
      });
      await waitFor(() => read.length >= expected.length, { timeoutMs: 60_000, what: 'every record sent' });
      expect(read.sort()).toEqual(expected.sort());
    } finally {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
      await kafka.stop();
    }
  });
});
