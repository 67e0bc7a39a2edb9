// EventLog over Apache Kafka (@platformatic/kafka): idempotent acks=all producer, one consumer group per consume(),
// commit after the handler. The same contract and settings as the kafkajs adapter (kafka.ts), chosen by CDP_KAFKA_CLIENT.
import {
  Admin,
  ConfigResourceTypes,
  Consumer,
  IncrementalAlterConfigOperationTypes,
  Producer,
  ProduceAcks,
  compatibilityPartitioner,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { KafkaLogOptions } from './kafka';
import { UnrecoverableBatchError } from './types';
import type * as log from './types';
import * as common from './kafka-common';

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** Batches' worth of records a partition may hold fetched but not handled; beyond it fetching pauses until it drains. */
const bufferedRecordsPerPartition = 4;

/**
 * At most about this many bytes of records go in one send of calls that waited together: half a broker's default
 * message.max.bytes (1 MB), which bounds one partition's batch, so that calls joined together stay well under a size
 * none of them has alone. An estimate with room to spare: a key counts its UTF-16 length, headers and framing 64 bytes
 * a record.
 */
const joinedSendBytes = 512 * 1024;

const roughBytes = (records: log.LogRecord[]) =>
  records.reduce((bytes, record) => bytes + record.key.length + record.value.length + 64, 0);

/**
 * Produce calls over `send`, one send at a time. Calls that arrive while a send is under way wait for the next one,
 * which carries the waiting calls for the first waiting call's topic, in the order they came, up to `maxBytes` (a
 * call larger than that goes alone; the topic's later calls wait for a later send): a failure is those callers' alone.
 */
export function oneSendAtATime(
  send: (topic: string, records: log.LogRecord[]) => Promise<void>,
  maxBytes = joinedSendBytes,
): (topic: string, records: log.LogRecord[]) => Promise<void> {
  const waiting: Array<{ topic: string; records: log.LogRecord[]; bytes: number; settle: (error?: unknown) => void }> =
    [];
  let sending = false;

  /** Takes the next send's calls out of `waiting`: the first one's topic, in order, up to `maxBytes`. */
  function nextCalls(): typeof waiting {
    const topic = waiting[0]!.topic;
    const calls: typeof waiting = [];
    let bytes = 0;
    // Once a call of the topic is left for a later send, so is every call of it after it: they go out in order.
    let full = false;
    let kept = 0;
    for (const call of waiting) {
      if (!full && call.topic === topic) {
        if (calls.length === 0 || bytes + call.bytes <= maxBytes) {
          calls.push(call);
          bytes += call.bytes;
          continue;
        }
        full = true;
      }
      waiting[kept++] = call;
    }
    waiting.length = kept;
    return calls;
  }

  async function sendWaiting(): Promise<void> {
    sending = true;
    try {
      while (waiting.length > 0) {
        const calls = nextCalls();
        try {
          const records = calls.length === 1 ? calls[0]!.records : calls.flatMap((call) => call.records);
          await send(calls[0]!.topic, records);
          for (const call of calls) call.settle();
        } catch (error) {
          for (const call of calls) call.settle(error);
        }
      }
    } finally {
      sending = false;
    }
  }

  return (topic, records) => {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      waiting.push({
        topic,
        records,
        bytes: roughBytes(records),
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      });
      if (!sending) void sendWaiting();
    });
  };
}

export function createPlatformaticKafkaLog(options: KafkaLogOptions): log.EventLog {
  const logger = options.logger.child({ component: 'kafka-log', client: 'platformatic' });
  const base = { clientId: options.clientId, bootstrapBrokers: options.brokers, retries: 5, retryDelay: 500 };
  // The compatibility partitioner is the Java client's murmur2 (positive hash); the library's default is not.
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...base,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
  });
  const admin = new Admin(base);
  const consumers = new Set<log.LogConsumer>();

  async function ensureTopics(topics: log.TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    const existing = new Set(await admin.listTopics());
    await retainAsAsked(topics.filter((topic) => existing.has(topic.name)));
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length === 0) return;
    const { brokers } = await admin.metadata({ topics: [], forceUpdate: true });
    const replicationFactor = Math.max(1, Math.min(brokers.size, common.maxReplicationFactor));
    // One request per topic: a CreateTopics call here applies one set of configs to every topic in it.
    for (const topic of missing) {
      await admin.createTopics({
        topics: [topic.name],
        partitions: topic.partitions >= 1 ? topic.partitions : (options.defaultPartitions ?? 1),
        replicas: replicationFactor,
        configs: common.topicConfigEntries(topic, replicationFactor),
      });
    }
    await waitForLeaders(missing.map((topic) => topic.name));
    logger.info({ topics: missing.map((topic) => topic.name), replicationFactor }, 'created topics');
  }

  /** CreateTopics answers before every partition has a leader; a produce right after would fail. */
  async function waitForLeaders(names: string[]): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const metadata = await admin.metadata({ topics: names, forceUpdate: true });
      const led = names.every((name) => {
        const topic = metadata.topics.get(name);
        return topic !== undefined && topic.partitions.every((partition) => partition.leader >= 0);
      });
      if (led) return;
      await sleep(100);
    }
  }

  /** IncrementalAlterConfigs changes retention.ms alone; the topic's other settings stay as they are. */
  async function retainAsAsked(specs: log.TopicSpec[]): Promise<void> {
    const wanted = specs.filter((spec) => spec.retentionMs !== undefined && !spec.keepForever);
    if (wanted.length === 0) return;
    const described = await admin.describeConfigs({
      resources: wanted.map((spec) => ({
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: spec.name,
        configurationKeys: ['retention.ms'],
      })),
    });
    const changed = wanted.filter((spec) => {
      const configs = described.find((resource) => resource.resourceName === spec.name)?.configs ?? [];
      return configs.find((config) => config.name === 'retention.ms')?.value !== String(spec.retentionMs);
    });
    if (changed.length === 0) return;
    await admin.incrementalAlterConfigs({
      resources: changed.map((spec) => ({
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: spec.name,
        configs: [
          {
            name: 'retention.ms',
            configOperation: IncrementalAlterConfigOperationTypes.SET,
            value: String(spec.retentionMs),
          },
        ],
      })),
    });
    logger.info(
      { retentionMs: Object.fromEntries(changed.map((spec) => [spec.name, spec.retentionMs])) },
      'topic retention changed',
    );
  }

  // One send at a time: concurrent sends of the idempotent producer to one partition reach the broker out of sequence
  // (OUT_OF_ORDER_SEQUENCE_NUMBER).
  const produce = oneSendAtATime(async (topic, records) => {
    await producer.send({ messages: records.map((record) => toMessage(topic, record)) });
  });

  async function partitionsOf(topic: string): Promise<number[]> {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    return Array.from({ length: count }, (_, index) => index);
  }

  async function endOffsets(topic: string): Promise<Record<number, string>> {
    const partitions = await partitionsOf(topic);
    const [listed] = await admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
    });
    return Object.fromEntries(
      (listed?.partitions ?? []).map((entry) => [entry.partitionIndex, entry.offset.toString()]),
    );
  }

  async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
    const partitions = await partitionsOf(topic);
    const [group] = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }],
    });
    // A partition the group never committed in comes back as offset -1.
    return Object.fromEntries(
      (group?.topics.find((entry) => entry.name === topic)?.partitions ?? [])
        .filter((entry) => entry.committedOffset >= 0n)
        .map((entry) => [entry.partitionIndex, entry.committedOffset.toString()]),
    );
  }

  /**
   * Commits the asked start offsets of the partitions the group has not committed in, before it joins; a group with
   * members already refuses that, and then the floors alone keep earlier records out.
   */
  async function commitStarts(consumerOptions: log.ConsumerOptions): Promise<Map<string, bigint>> {
    const floors = new Map<string, bigint>();
    const asked = Object.entries(consumerOptions.startOffsets ?? {}).filter(([topic]) =>
      consumerOptions.topics.includes(topic),
    );
    const toCommit: Array<{ name: string; partitionOffsets: Array<{ partition: number; offset: bigint }> }> = [];
    for (const [topic, partitions] of asked) {
      const committed = await committedOffsets(consumerOptions.groupId, topic);
      const partitionOffsets: Array<{ partition: number; offset: bigint }> = [];
      for (const [partition, offset] of Object.entries(partitions)) {
        if (!/^\d+$/.test(offset))
          throw new Error(
            `consume (group ${consumerOptions.groupId}): start offset "${offset}" of ${topic}/${partition} is not an offset`,
          );
        if (committed[Number(partition)] !== undefined) continue;
        floors.set(`${topic}/${partition}`, BigInt(offset));
        partitionOffsets.push({ partition: Number(partition), offset: BigInt(offset) });
      }
      if (partitionOffsets.length > 0) toCommit.push({ name: topic, partitionOffsets });
    }
    if (toCommit.length > 0) {
      await admin
        .alterConsumerGroupOffsets({ groupId: consumerOptions.groupId, topics: toCommit })
        .catch((error: unknown) =>
          logger.debug({ err: error, groupId: consumerOptions.groupId }, 'start offsets not committed ahead'),
        );
    }
    return floors;
  }

  async function consume(consumerOptions: log.ConsumerOptions): Promise<log.LogConsumer> {
    const floors = await commitStarts(consumerOptions);
    const groupLogger = logger.child({ groupId: consumerOptions.groupId });
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...base,
      groupId: consumerOptions.groupId,
      autocreateTopics: false,
      sessionTimeout: common.sessionTimeoutMs,
      heartbeatInterval: common.heartbeatIntervalMs,
      maxWaitTime: 1_000,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
    });
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      stream = await consumer.consume({
        topics: consumerOptions.topics,
        autocommit: false,
        // Where the group committed; earliest where it has not.
        mode: 'committed',
        fallbackMode: 'earliest',
      });
    } catch (error) {
      await consumer.close(true);
      throw error;
    }
    const partitions = createPartitionWorkers(consumerOptions, floors, groupLogger, {
      pauseFetching: () => stream.pause(),
      resumeFetching: () => stream.resume(),
      stop: (error) => {
        state = 'stopped';
        groupLogger.error({ err: error }, 'batch handler failed beyond repair; stopping the consumer');
        void shutdown();
      },
    });
    let state: log.ConsumerState = 'running';
    stream.on('data', (message: KafkaMessage) => partitions.add(message));
    stream.on('error', (error: Error) => {
      if (state === 'stopped') return;
      state = 'stopped';
      groupLogger.error({ err: error }, 'consumer failed and stopped; it consumes nothing until the process restarts');
      void shutdown();
    });
    // The partitions the group gave this member at its last join: none before it, while a rebalance is under way (the
    // group may be giving them to another member) and once it has left.
    let assignment: Record<string, number[]> = {};
    const joined = () => {
      assignment = {};
      for (const each of consumer.assignments ?? [])
        assignment[each.topic] = [...(assignment[each.topic] ?? []), ...each.partitions];
    };
    // consume() has joined the group before it returns: the first join's event has already gone by.
    joined();
    consumer.on('consumer:group:rebalance', () => (assignment = {}));
    consumer.on('consumer:group:leave', () => (assignment = {}));
    // After a rebalance, partitions this member lost go to another one, from the group's committed offset.
    consumer.on('consumer:group:join', () => {
      joined();
      partitions.keepOnly(
        new Set(
          Object.entries(assignment).flatMap(([topic, held]) => held.map((partition) => `${topic}/${partition}`)),
        ),
      );
    });

    let closing: Promise<void> | undefined;
    function shutdown(): Promise<void> {
      closing ??= (async () => {
        stream.pause();
        partitions.cancelRetries();
        await partitions.idle();
        try {
          await stream.close();
          await consumer.close(true);
        } catch (error) {
          groupLogger.warn({ err: error }, 'closing the consumer failed');
        }
      })();
      return closing;
    }
    const logConsumer: log.LogConsumer = {
      groupId: consumerOptions.groupId,
      state: () => state,
      healthy: () => state !== 'stopped',
      assignment: () => (state === 'running' ? assignment : {}),
      close: async () => {
        await shutdown();
        consumers.delete(logConsumer);
      },
    };
    consumers.add(logConsumer);
    return logConsumer;
  }

  return common.kafkaEventLog({
    ensureTopics,
    produce,
    consume,
    consumers,
    endOffsets,
    committedOffsets,
    probe: async () => (await admin.metadata({ topics: [], forceUpdate: true })).brokers.size > 0,
    disconnect: () => Promise.all([producer.close(), admin.close()]),
  });
}

interface PartitionQueue {
  topic: string;
  partition: number;
  records: KafkaMessage[];
  /** The offset after the last record queued: a fetch again after a rejoin hands over ones already queued. */
  next: bigint | undefined;
  running: Promise<void> | undefined;
  failuresInARow: number;
}

interface FetchControl {
  pauseFetching: () => void;
  resumeFetching: () => void;
  stop: (error: UnrecoverableBatchError) => void;
}

/**
 * The stream hands over records one by one for every assigned partition; each partition queues its own and one loop
 * per partition hands them to the handler in chunks, commits after each, and retries a failed chunk after a back-off
 * while the other partitions go on. Fetching pauses while a partition holds more than a few batches unhandled.
 */
function createPartitionWorkers(
  options: log.ConsumerOptions,
  floors: Map<string, bigint>,
  logger: Logger,
  control: FetchControl,
) {
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? common.defaultMaxBatchSize);
  const queues = new Map<string, PartitionQueue>();
  const timers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  let stopped = false;
  let paused = false;

  function add(message: KafkaMessage): void {
    if (stopped) return;
    const key = `${message.topic}/${message.partition}`;
    let queue = queues.get(key);
    if (!queue) {
      queue = {
        topic: message.topic,
        partition: message.partition,
        records: [],
        next: undefined,
        running: undefined,
        failuresInARow: 0,
      };
      queues.set(key, queue);
    }
    if (queue.next !== undefined && message.offset < queue.next) return;
    queue.next = message.offset + 1n;
    const floor = floors.get(key);
    if (floor !== undefined && message.offset < floor) {
      // Below a start the group had not committed: skipped, and committed past once the partition reaches the start.
      if (message.offset + 1n === floor) void commitQuietly(message);
      return;
    }
    queue.records.push(message);
    if (!paused && queue.records.length >= maxBatchSize * bufferedRecordsPerPartition) {
      paused = true;
      control.pauseFetching();
    }
    // Started on the next turn, so that every record of the fetch just taken is queued and the first batch holds them.
    queue.running ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => drain(queue))
      .finally(() => {
        queue.running = undefined;
      });
  }

  async function commitQuietly(message: KafkaMessage): Promise<void> {
    try {
      await message.commit();
    } catch (error) {
      // Another member has the partition now; it resumes from the offset committed before.
      logger.warn({ err: error, topic: message.topic, partition: message.partition }, 'commit failed');
    }
  }

  async function drain(queue: PartitionQueue): Promise<void> {
    const { topic, partition } = queue;
    // A failed chunk is delivered again as it was, however many records arrived meanwhile.
    let retrying: KafkaMessage[] | undefined;
    while (queue.records.length > 0 && !stopped) {
      const messages = retrying ?? queue.records.slice(0, maxBatchSize);
      retrying = undefined;
      const records = messages.map(toConsumedRecord);
      try {
        await options.handleBatch({ topic, partition, records });
      } catch (error) {
        if (error instanceof UnrecoverableBatchError) {
          stopped = true;
          control.stop(error);
          return;
        }
        queue.failuresInARow += 1;
        const retryInMs = Math.min(
          common.retryBackoffMs.first * 2 ** (queue.failuresInARow - 1),
          common.retryBackoffMs.max,
        );
        logger.error(
          {
            err: error,
            topic,
            partition,
            firstOffset: records[0]!.offset,
            lastOffset: records[records.length - 1]!.offset,
            attempt: queue.failuresInARow,
            retryInMs,
          },
          'batch handler failed; delivering the records again',
        );
        await backOff(retryInMs);
        if (queue.records[0] === messages[0]) retrying = messages;
        continue;
      }
      queue.failuresInARow = 0;
      // The records may have been dropped meanwhile by a rebalance that took the partition away.
      if (queue.records[0] === messages[0]) queue.records.splice(0, messages.length);
      await commitQuietly(messages[messages.length - 1]!);
      if (
        paused &&
        [...queues.values()].every((each) => each.records.length < maxBatchSize * bufferedRecordsPerPartition)
      ) {
        paused = false;
        control.resumeFetching();
      }
    }
  }

  function backOff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      timers.add(entry);
    });
  }

  /** Forgets the records of partitions no longer assigned; whoever has them now starts at the committed offset. */
  function keepOnly(assigned: Set<string>): void {
    for (const [key, queue] of queues) {
      if (assigned.has(key)) continue;
      queue.records = [];
      queue.next = undefined;
    }
  }

  function cancelRetries(): void {
    stopped = true;
    for (const entry of timers) {
      clearTimeout(entry.timer);
      entry.wake();
    }
    timers.clear();
  }

  /** Resolves once no chunk is in a handler or being committed. */
  async function idle(): Promise<void> {
    await Promise.all([...queues.values()].map((queue) => queue.running));
  }

  return { add, keepOnly, cancelRetries, idle };
}

function toMessage(topic: string, record: log.LogRecord) {
  return {
    topic,
    key: Buffer.from(record.key, 'utf8'),
    value: record.value,
    headers: new Map(
      Object.entries(record.headers ?? {}).map(([name, value]) => [Buffer.from(name), Buffer.from(value)]),
    ),
  };
}

function toConsumedRecord(message: KafkaMessage): log.ConsumedRecord {
  // Kafka allows a header key more than once; the EventLog contract has one value per key, so the last one wins.
  const headers: Record<string, string> = {};
  for (const [name, value] of message.headers) headers[name.toString()] = value.toString();
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    key: message.key && message.key.length > 0 ? message.key.toString('utf8') : null,
    value: message.value ?? Buffer.alloc(0),
    headers,
    timestamp: Number(message.timestamp),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
