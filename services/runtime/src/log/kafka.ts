// EventLog over Apache Kafka (kafkajs): idempotent acks=all producer, one consumer group per consume(), commit after the handler.
import kafkajs, {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type ICustomPartitioner,
  type KafkaMessage,
  type logCreator,
  type Producer,
} from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { partitionOf } from './embedded/frame';
import {
  UnrecoverableBatchError,
  type ConsumedRecord,
  type ConsumerOptions,
  type ConsumerState,
  type EventLog,
  type LogConsumer,
  type LogRecord,
  type TopicSpec,
} from './types';
import {
  defaultMaxBatchSize,
  heartbeatIntervalMs,
  kafkaEventLog,
  maxReplicationFactor,
  retryBackoffMs,
  sessionTimeoutMs,
  topicConfigEntries,
} from './kafka-common';

// Enums Node's CommonJS interop does not expose as named imports of kafkajs.
const { ConfigResourceTypes, ConfigSource } = kafkajs;

export interface KafkaLogOptions {
  /** Bootstrap addresses, `host:port`. */
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Partitions for a TopicSpec that asks for none (partitions < 1). */
  defaultPartitions?: number;
}

/**
 * The Java client's partitioner, so Java producers put a key on the same partition: kafkajs' DefaultPartitioner, with
 * a keyed record's partition taken from the embedded log's murmur2 (32-bit integer arithmetic, where kafkajs' own
 * multiplies 64-bit Long objects, a few of them per 4 bytes of key). Records without a key are the default's.
 */
export const murmur2Partitioner: ICustomPartitioner = () => {
  const byDefault = Partitioners.DefaultPartitioner();
  return (args) => {
    const { key, partition } = args.message;
    return typeof key === 'string' && (partition === null || partition === undefined)
      ? partitionOf(key, args.partitionMetadata.length)
      : byDefault(args);
  };
};

export function createKafkaLog(options: KafkaLogOptions): EventLog {
  const logger = options.logger.child({ component: 'kafka-log' });
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(options.logger.child({ component: 'kafkajs' })),
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: murmur2Partitioner,
  });
  const admin: Admin = kafka.admin();
  const consumers = new Set<LogConsumer>();
  const producerConnection = lazyConnection(() => producer.connect());
  const adminConnection = lazyConnection(() => admin.connect());

  async function ensureTopics(topics: TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    await adminConnection.connect();
    const existing = new Set(await admin.listTopics());
    await retainAsAsked(topics.filter((topic) => existing.has(topic.name)));
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length === 0) return;
    // Counted from the cluster, not from the bootstrap list, which may name one broker of many.
    const { brokers } = await admin.describeCluster();
    const replicationFactor = Math.max(1, Math.min(brokers.length, maxReplicationFactor));
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions >= 1 ? topic.partitions : (options.defaultPartitions ?? 1),
        replicationFactor,
        configEntries: topicConfigEntries(topic, replicationFactor),
      })),
    });
    await waitForLeaders(missing.map((topic) => topic.name));
    logger.info({ topics: missing.map((topic) => topic.name), replicationFactor }, 'created topics');
  }

  /**
   * CreateTopics answers before every partition has a leader, and for a moment after that the broker answers for the
   * new topic UNKNOWN_TOPIC_OR_PARTITION (its metadata does not have it yet) or NOT_LEADER_FOR_PARTITION (its metadata
   * names it leader before it acts as one); kafkajs' own wait for leaders gives up on the first. A produce in that
   * moment is refused for the partitions not led yet and sent again by kafkajs (unpatched, that also broke the sequence
   * of the partitions that took their records: see the patch in the runtime README). So a new topic is waited for
   * until every partition has a leader that answers for its offsets, asking again on any retriable answer (about 20 s
   * in all).
   */
  async function waitForLeaders(names: string[]): Promise<void> {
    await retryRetriable(
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: names });
        const leaderless = names.filter((name) => {
          const partitions = topics.find((topic) => topic.name === name)?.partitions ?? [];
          return partitions.length === 0 || partitions.some((partition) => partition.leader < 0);
        });
        if (leaderless.length > 0) {
          throw Object.assign(new Error(`no leader yet for every partition of ${leaderless.join(', ')}`), {
            retriable: true,
          });
        }
        for (const name of names) await admin.fetchTopicOffsets(name);
      },
      { attempts: 20, backoffMs: 100 },
    );
  }

  /**
   * Gives existing topics the retention.ms their spec asks for. AlterConfigs replaces a topic's whole configuration,
   * so the entries set on the topic itself (min.insync.replicas and the like) are sent again with it.
   */
  async function retainAsAsked(specs: TopicSpec[]): Promise<void> {
    const wanted = specs.filter((spec) => spec.retentionMs !== undefined && !spec.keepForever);
    if (wanted.length === 0) return;
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: wanted.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.name })),
    });
    const resources = wanted.flatMap((spec) => {
      const entries = described.resources.find((resource) => resource.resourceName === spec.name)?.configEntries ?? [];
      const value = String(spec.retentionMs);
      if (entries.find((entry) => entry.configName === 'retention.ms')?.configValue === value) return [];
      const own = entries
        .filter((entry) => entry.configSource === ConfigSource.TOPIC_CONFIG && entry.configName !== 'retention.ms')
        .map((entry) => ({ name: entry.configName, value: entry.configValue }));
      return [
        { type: ConfigResourceTypes.TOPIC, name: spec.name, configEntries: [...own, { name: 'retention.ms', value }] },
      ];
    });
    if (resources.length === 0) return;
    await admin.alterConfigs({ validateOnly: false, resources });
    logger.info(
      {
        retentionMs: Object.fromEntries(
          wanted
            .filter((spec) => resources.some((resource) => resource.name === spec.name))
            .map((spec) => [spec.name, spec.retentionMs]),
        ),
      },
      'topic retention changed',
    );
  }

  async function produce(topic: string, records: LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    await producerConnection.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: records.map((record) => ({ key: record.key, value: record.value, headers: record.headers ?? {} })),
    });
  }

  /** The asked start offsets of partitions the group has not committed in: those are the ones to seek. */
  async function uncommittedStarts(options: ConsumerOptions): Promise<StartOffset[]> {
    const asked = Object.entries(options.startOffsets ?? {}).filter(([topic]) => options.topics.includes(topic));
    if (asked.length === 0) return [];
    await adminConnection.connect();
    const committed = await retryRetriable(() =>
      admin.fetchOffsets({ groupId: options.groupId, topics: asked.map(([topic]) => topic) }),
    );
    const starts: StartOffset[] = [];
    for (const [topic, partitions] of asked) {
      for (const [partition, offset] of Object.entries(partitions)) {
        if (!/^\d+$/.test(offset))
          throw new Error(
            `consume (group ${options.groupId}): start offset "${offset}" of ${topic}/${partition} is not an offset`,
          );
        const current = committed
          .find((entry) => entry.topic === topic)
          ?.partitions.find((entry) => entry.partition === Number(partition));
        // kafkajs reports a partition the group never committed in as offset -1.
        if (current === undefined || current.offset === '-1')
          starts.push({ topic, partition: Number(partition), offset });
      }
    }
    return starts;
  }

  async function consume(consumerOptions: ConsumerOptions): Promise<LogConsumer> {
    const groupLogger = logger.child({ groupId: consumerOptions.groupId });
    let state: ConsumerState = 'running';
    let closed = false;
    let current: { consumer: Consumer; handle: BatchHandler } | undefined;
    // The partitions the group gave this member at its last join: none before it, while a rebalance is under way (the
    // group may be giving them to another member) and from a crash until the consumer has joined again.
    let assignment: Record<string, number[]> = {};

    /** A kafkajs consumer of the group, running the batch handler from the group's committed offsets (or the asked starts). */
    async function start(): Promise<void> {
      const starts = await uncommittedStarts(consumerOptions);
      const consumer = kafka.consumer({
        groupId: consumerOptions.groupId,
        allowAutoTopicCreation: false,
        // An idle fetch long-polls this long, and close() and a retry's resume both wait for it (kafkajs default: 5 s).
        maxWaitTimeInMs: 1_000,
        sessionTimeout: sessionTimeoutMs,
        heartbeatInterval: heartbeatIntervalMs,
        // kafkajs fetches 1 MB per partition by default: about 2,500 events, well under a resolver's batch size.
        maxBytesPerPartition: 8 * 1024 * 1024,
        maxBytes: 64 * 1024 * 1024,
      });
      const handle = createBatchHandler(consumer, consumerOptions, starts, groupLogger);
      assignment = {};
      // A crash while joining: run() returns all the same, so start() reports it rather than a replacement loop.
      let starting = true;
      let crashedWhileStarting: unknown;
      // kafkajs restarts a consumer after a retriable crash by itself, and after any other leaves it disconnected,
      // saying so only through this event: after the broker was down or stalled long enough, a consumer of ours would
      // then consume nothing until the process restarts. Unless its handler gave up on purpose, it is started again.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        const { error, restart } = payload;
        assignment = {};
        if (restart) {
          state = 'restarting';
          groupLogger.error({ err: error, restart }, 'consumer crashed; kafkajs restarts it');
        } else if (handlerGaveUp(error) || closed) {
          state = 'stopped';
          groupLogger.error(
            { err: error, restart },
            'consumer crashed and stopped; it consumes nothing until the process restarts',
          );
        } else if (starting) {
          crashedWhileStarting = error;
        } else {
          state = 'restarting';
          groupLogger.error({ err: error, restart }, 'consumer crashed and kafkajs gave up on it; starting it again');
          restarting ??= startAgain(consumer, handle).finally(() => (restarting = undefined));
        }
      });
      consumer.on(consumer.events.REBALANCING, () => (assignment = {}));
      consumer.on(consumer.events.STOP, () => (assignment = {}));
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        assignment = Object.fromEntries(
          Object.entries(payload.memberAssignment).map(([topic, partitions]) => [topic, [...partitions]]),
        );
        if (state === 'restarting') groupLogger.info('consumer rejoined its group after a crash');
        if (state !== 'stopped') state = 'running';
      });
      await consumer.connect();
      try {
        // Earliest only applies when the group has no committed offset for a partition; otherwise it resumes from there.
        await consumer.subscribe({ topics: consumerOptions.topics, fromBeginning: true });
        // Several partitions in flight at once, as the embedded log does: one partition's wait on ClickHouse or on the
        // identity link log no longer holds up the others.
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 4,
          eachBatch: handle.eachBatch,
        });
        // kafkajs takes a seek only once run() has joined the group; it drops a fetch that was under way at the old
        // offset, and the batch handler drops anything below the start should one get through anyway.
        for (const each of starts) consumer.seek(each);
        if (crashedWhileStarting !== undefined) throw crashedWhileStarting;
      } catch (error) {
        await consumer.disconnect();
        throw error;
      } finally {
        starting = false;
      }
      current = { consumer, handle };
      // Closed while starting: nothing else will disconnect it.
      if (closed) await consumer.disconnect();
    }

    let restarting: Promise<void> | undefined;
    // Cuts a pause between restarts short on close().
    const stopping = new AbortController();

    /** Replaces a consumer kafkajs gave up on, trying again with a growing pause while the broker cannot be reached. */
    async function startAgain(consumer: Consumer, handle: BatchHandler): Promise<void> {
      handle.cancelRetries();
      await consumer.disconnect().catch(() => undefined);
      for (let attempt = 1; !closed; attempt += 1) {
        const ms = Math.min(retryBackoffMs.first * 2 ** (attempt - 1), retryBackoffMs.max);
        await sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);
        if (closed) return;
        try {
          await start();
          groupLogger.info({ attempt }, 'consumer started again after kafkajs gave up on it');
          return;
        } catch (error) {
          groupLogger.warn({ err: error, attempt }, 'consumer could not start again yet; trying again');
        }
      }
    }

    await start();
    let closing: Promise<void> | undefined;
    const logConsumer: LogConsumer = {
      groupId: consumerOptions.groupId,
      state: () => state,
      healthy: () => state !== 'stopped',
      assignment: () => (state === 'running' ? assignment : {}),
      close: () => {
        // disconnect() waits for the batch in hand, and every chunk is committed as soon as its handler resolved.
        closing ??= (async () => {
          closed = true;
          // A replacement under way is stopped, or finishes starting and is disconnected, before this resolves.
          stopping.abort();
          await restarting;
          state = 'stopped';
          current?.handle.cancelRetries();
          await current?.consumer.disconnect();
          consumers.delete(logConsumer);
        })();
        return closing;
      },
    };
    consumers.add(logConsumer);
    return logConsumer;
  }

  async function endOffsets(topic: string): Promise<Record<number, string>> {
    await adminConnection.connect();
    const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    return Object.fromEntries(offsets.map((entry) => [entry.partition, entry.high]));
  }

  async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
    await adminConnection.connect();
    const [found] = await retryRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    // kafkajs reports a partition the group never committed in as offset -1.
    return Object.fromEntries(
      (found?.partitions ?? [])
        .filter((entry) => entry.offset !== '-1')
        .map((entry) => [entry.partition, entry.offset]),
    );
  }

  return kafkaEventLog({
    ensureTopics,
    produce,
    consume,
    consumers,
    endOffsets,
    committedOffsets,
    probe: async () => {
      await adminConnection.connect();
      const { brokers } = await admin.describeCluster();
      return brokers.length > 0;
    },
    disconnect: () => Promise.all([producer.disconnect(), admin.disconnect()]),
  });
}

interface StartOffset {
  topic: string;
  partition: number;
  offset: string;
}

interface BatchHandler {
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  cancelRetries: () => void;
}

/**
 * Hands each partition batch to the handler in chunks and commits after each chunk. A failed chunk is not committed:
 * the partition seeks back to its first offset and pauses for a back-off, so the same records come again while the
 * other partitions keep flowing and heartbeats continue (a sleep inside eachBatch would hold up both).
 */
function createBatchHandler(
  consumer: Consumer,
  options: ConsumerOptions,
  starts: StartOffset[],
  logger: Logger,
): BatchHandler {
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? defaultMaxBatchSize);
  // Offsets below a seeked start are never handed over: a restarted kafkajs consumer (after a crash of its own)
  // forgets the seek and begins at the earliest offset again. Once past the start this never drops anything.
  const floors = new Map(starts.map((start) => [`${start.topic}/${start.partition}`, BigInt(start.offset)]));
  const failuresInARow = new Map<string, number>();
  const resumeTimers = new Set<NodeJS.Timeout>();

  async function eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
    pause,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const partitionKey = `${topic}/${partition}`;
    let records = batch.messages.map((message) => toConsumedRecord(topic, partition, message));
    const floor = floors.get(partitionKey);
    if (floor !== undefined && records.length > 0 && BigInt(records[0]!.offset) < floor) {
      const below = records.filter((record) => BigInt(record.offset) < floor);
      logger.debug(
        { topic, partition, dropped: below.length, startOffset: floor.toString() },
        'records before the start offset dropped',
      );
      records = records.filter((record) => BigInt(record.offset) >= floor);
      if (records.length === 0) {
        resolveOffset(below[below.length - 1]!.offset);
        return;
      }
    }
    for (let start = 0; start < records.length; start += maxBatchSize) {
      // Stop between chunks on close() or a seek; whatever is left is delivered again from the committed offset.
      if (!isRunning() || isStale()) return;
      const chunk = records.slice(start, start + maxBatchSize);
      const firstOffset = chunk[0]!.offset;
      const lastOffset = chunk[chunk.length - 1]!.offset;
      try {
        await whileBeating(heartbeat, logger, () =>
          options.handleBatch({ topic, partition, records: chunk, heartbeat }),
        );
      } catch (error) {
        if (error instanceof UnrecoverableBatchError) {
          // Out of eachBatch, not retriable: kafkajs stops the consumer and reports it (the CRASH listener).
          logger.error(
            { err: error, topic, partition, firstOffset, lastOffset },
            'batch handler failed beyond repair; stopping the consumer',
          );
          throw error;
        }
        const attempt = (failuresInARow.get(partitionKey) ?? 0) + 1;
        failuresInARow.set(partitionKey, attempt);
        const retryInMs = Math.min(retryBackoffMs.first * 2 ** (attempt - 1), retryBackoffMs.max);
        logger.error(
          { err: error, topic, partition, firstOffset, lastOffset, attempt, retryInMs },
          'batch handler failed; delivering the records again',
        );
        consumer.seek({ topic, partition, offset: firstOffset });
        const resume = pause();
        const timer = setTimeout(() => {
          resumeTimers.delete(timer);
          resume();
        }, retryInMs);
        resumeTimers.add(timer);
        return;
      }
      failuresInARow.delete(partitionKey);
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
      resolveOffset(lastOffset);
      await heartbeat();
    }
  }

  function cancelRetries(): void {
    for (const timer of resumeTimers) clearTimeout(timer);
    resumeTimers.clear();
  }

  return { eachBatch, cancelRetries };
}

/**
 * Runs a handler while beating the group's heartbeat, so a handler slower than the session timeout keeps the
 * partition. kafkajs sends a beat only once its interval has passed, however often it is asked. A failed beat
 * (a rebalance under way) is for kafkajs to act on when the batch is done; the handler is not interrupted.
 */
async function whileBeating<T>(heartbeat: () => Promise<void>, logger: Logger, handler: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    heartbeat().catch((error: unknown) => logger.debug({ err: error }, 'heartbeat during a batch failed'));
  }, heartbeatIntervalMs);
  try {
    return await handler();
  } finally {
    clearInterval(timer);
  }
}

function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString('utf8') : null,
    value: message.value ?? Buffer.alloc(0),
    headers: headersToStrings(message.headers),
    timestamp: Number(message.timestamp),
  };
}

// Kafka allows a header key more than once; the EventLog contract has one value per key, so the last one wins.
function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) result[name] = last.toString();
  }
  return result;
}

/** kafkajs logs through pino; kafkajs itself drops everything below WARN (see logLevel above). */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      const entry = { namespace, ...fields };
      // kafkajs' Connection logs every error response at ERROR, retriable ones included (a coordinator still
      // loading); the producer or consumer that retries reports at ERROR itself if it gives up.
      if (level === logLevel.ERROR && namespace !== 'Connection') logger.error(entry, message);
      else if (level === logLevel.ERROR) logger.warn(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}

/** One connect at a time, remembered once it succeeded; a failed attempt lets the next call try again. */
function lazyConnection(connect: () => Promise<void>): { connect: () => Promise<void> } {
  let pending: Promise<void> | undefined;
  return {
    connect: () => {
      pending ??= connect().catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
      return pending;
    },
  };
}

/** Whether the error, or one it wraps as `cause` (as kafkajs wraps errors in its own), passes `test`. */
function someCause(error: unknown, test: (each: Error) => boolean): boolean {
  for (let each = error, depth = 0; each instanceof Error && depth < 10; each = each.cause, depth += 1)
    if (test(each)) return true;
  return false;
}

/** Whether kafkajs stopped for our handler's UnrecoverableBatchError. */
const handlerGaveUp = (error: unknown) => someCause(error, (each) => each instanceof UnrecoverableBatchError);

/**
 * kafkajs' admin gives up on requests a broker answers with a retriable error (a group coordinator or a partition
 * leader that is still loading or just moved, a topic its metadata does not have yet), which a new group or a new
 * topic often meets, and wraps the error when its own retries ran out: tried again here, backing off a little more
 * each time.
 */
async function retryRetriable<T>(
  action: () => Promise<T>,
  { attempts = 8, backoffMs = retryBackoffMs.first }: { attempts?: number; backoffMs?: number } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      const retriable = someCause(error, (each) => (each as { retriable?: boolean }).retriable === true);
      if (attempt >= attempts || !retriable) throw error;
      await sleep(Math.min(backoffMs * attempt, 5_000));
    }
  }
}
