// The embedded on-disk event log: the default runtime's stand-in for Kafka, one process owning one directory.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import { startConsumer, type RetryBackoff } from './embedded/consumer';
import { acquireDirLock, fsyncDir } from './embedded/files';
import { MAX_FRAME_BYTES, encodeHeaders, partitionOf, prepareFrame, type PreparedFrame } from './embedded/frame';
import { openGroupOffsets, type GroupOffsets } from './embedded/offsets';
import type { Partition } from './embedded/partition';
import { closeTopics, createTopic, loadTopics, type Topic } from './embedded/topics';
import type { EventLog, LogConsumer, LogRecord } from './types';

export interface EmbeddedLogOptions {
  dir: string;
  logger: Logger;
  /** Partitions of a topic whose spec asks for none (partitions ≤ 0). Default 1. */
  defaultPartitions?: number;
  /** How often an idle consumer looks again without being woken by an append. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Back-off before a failed batch is delivered again. Default 100 ms doubling up to 5000 ms. */
  retryBackoff?: Partial<RetryBackoff>;
  /** How often retention looks for expired records (topics created or ensured with retentionMs). Default 5 min. */
  retentionCheckMs?: number;
  /**
   * The fewest expired bytes worth removing from a partition. Default 16 MiB. Removal also waits until the expired
   * part is at least half of what is kept, which is copied to a new file each time.
   */
  retentionMinBytes?: number;
}

/**
 * Turns a LogRecord into what is framed on disk, refusing what the format cannot hold. `sections` holds the header
 * sections encoded so far, by headers object: records that share one are encoded and checked once.
 */
function toFrame(topic: string, record: LogRecord, sections: Map<object, Buffer>): PreparedFrame {
  if (typeof record.key !== 'string')
    throw new AppError('INTERNAL', `produce to ${topic}: every record needs a string key`);
  if (!Buffer.isBuffer(record.value))
    throw new AppError('INTERNAL', `produce to ${topic}: a record value must be a Buffer`);
  const headers = record.headers ?? noHeaders;
  let section = sections.get(headers);
  if (!section) {
    const names = Object.keys(headers);
    if (
      names.length > 0xffff ||
      names.some((name) => Buffer.byteLength(name) > 0xffff || typeof headers[name] !== 'string')
    ) {
      throw new AppError(
        'INTERNAL',
        `produce to ${topic}: headers must be at most 65535 string values with names under 64 KiB`,
      );
    }
    // Measured before they are encoded: headers too large for a frame are refused without being copied.
    if (names.reduce((bytes, name) => bytes + Buffer.byteLength(headers[name] as string), 0) > MAX_FRAME_BYTES) {
      throw new AppError('INTERNAL', `produce to ${topic}: a record may take at most ${MAX_FRAME_BYTES} bytes`);
    }
    section = encodeHeaders(headers);
    sections.set(headers, section);
  }
  const frame = prepareFrame({ key: record.key, value: record.value, headers }, section);
  if (frame.length > MAX_FRAME_BYTES) {
    throw new AppError('INTERNAL', `produce to ${topic}: a record may take at most ${MAX_FRAME_BYTES} bytes`);
  }
  return frame;
}

const noHeaders: Record<string, string> = {};

export async function openEmbeddedLog(options: EmbeddedLogOptions): Promise<EventLog> {
  const logger = options.logger.child({ component: 'embedded-log' });
  const defaultPartitions = options.defaultPartitions ?? 1;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const retry: RetryBackoff = { initialMs: 100, maxMs: 5000, ...options.retryBackoff };
  const topicsDir = path.join(options.dir, 'topics');
  const groupsDir = path.join(options.dir, 'groups');

  await mkdir(options.dir, { recursive: true });
  const lock = await acquireDirLock(options.dir, logger);
  let topics: Map<string, Topic>;
  try {
    await mkdir(topicsDir, { recursive: true });
    await mkdir(groupsDir, { recursive: true });
    await fsyncDir(options.dir);
    topics = await loadTopics(topicsDir, logger);
  } catch (error) {
    await lock.release();
    throw error;
  }
  logger.info({ dir: options.dir, topics: [...topics.keys()] }, 'embedded log open');

  // 'draining': consumers are finishing their last batch, which may still produce (e.g. to a dead-letter topic).
  let state: 'open' | 'draining' | 'closed' = 'open';
  let closing: Promise<void> | null = null;
  const consumers = new Set<LogConsumer>();
  const groups = new Map<string, Promise<GroupOffsets>>();
  /** "group\0topic" of every running subscription: a group consumes a topic through at most one consumer. */
  const subscriptions = new Set<string>();
  let topicChanges: Promise<unknown> = Promise.resolve();

  // Retention per topic, as the last ensureTopics named it; applied in the background, one partition at a time.
  const retention = new Map<string, number>();
  let retaining: Promise<void> | null = null;
  async function applyRetention(): Promise<void> {
    for (const [name, retentionMs] of retention) {
      for (const partition of topics.get(name)?.partitions ?? []) {
        if (state !== 'open') return;
        await partition
          .dropBefore(Date.now() - retentionMs, options.retentionMinBytes ?? 16 * 1024 * 1024)
          .catch((error: unknown) => {
            logger.error(
              { err: error, topic: name, partition: partition.index },
              'retention could not remove expired records; trying again later',
            );
          });
      }
    }
  }
  const retentionTimer = setInterval(
    () => {
      retaining ??= applyRetention().finally(() => {
        retaining = null;
      });
    },
    options.retentionCheckMs ?? 5 * 60_000,
  );
  retentionTimer.unref();

  const closedError = (): AppError =>
    new AppError('LOG_UNAVAILABLE', `the embedded event log at ${options.dir} is closed`);

  function topicOrThrow(name: string, action: string): Topic {
    const topic = topics.get(name);
    if (!topic) {
      throw new AppError(
        'INTERNAL',
        `${action}: unknown topic "${name}"; create it with ensureTopics first (the embedded log does not auto-create topics)`,
      );
    }
    return topic;
  }

  return {
    kind: 'embedded',

    ensureTopics(specs) {
      if (state !== 'open') return Promise.reject(closedError());
      // Serialized so two callers creating the same topic do not race on its files.
      const change = topicChanges.then(async () => {
        for (const spec of specs) {
          const partitions = spec.partitions > 0 ? spec.partitions : defaultPartitions;
          if (spec.retentionMs !== undefined && spec.retentionMs > 0 && !spec.keepForever)
            retention.set(spec.name, spec.retentionMs);
          else retention.delete(spec.name);
          const existing = topics.get(spec.name);
          if (existing) {
            if (existing.partitions.length !== partitions) {
              logger.warn(
                { topic: spec.name, partitions: existing.partitions.length, requested: partitions },
                'topic exists with another partition count; left as it is',
              );
            }
            continue;
          }
          topics.set(spec.name, await createTopic(topicsDir, spec.name, partitions, logger));
        }
      });
      topicChanges = change.catch(() => undefined);
      return change;
    },

    async produce(topicName, records) {
      if (state === 'closed') throw closedError();
      const topic = topicOrThrow(topicName, 'produce');
      const byPartition = new Map<Partition, PreparedFrame[]>();
      const sections = new Map<object, Buffer>();
      for (const record of records) {
        const frame = toFrame(topicName, record, sections);
        const partition = topic.partitions[partitionOf(record.key, topic.partitions.length)] as Partition;
        const list = byPartition.get(partition);
        if (list) list.push(frame);
        else byPartition.set(partition, [frame]);
      }
      // Not atomic across partitions (Kafka is not either): a rejection may follow a partial write, and the caller's
      // retry then duplicates records, which consumers already dedupe by messageId.
      await Promise.all([...byPartition].map(([partition, list]) => partition.append(list)));
    },

    async consume(consumerOptions) {
      if (state !== 'open') throw closedError();
      const subscribed = [...new Set(consumerOptions.topics)].map((name) =>
        topicOrThrow(name, `consume (group ${consumerOptions.groupId})`),
      );
      const keys = subscribed.map((topic) => `${consumerOptions.groupId}\0${topic.name}`);
      const taken = subscribed.filter((_, i) => subscriptions.has(keys[i] as string)).map((topic) => topic.name);
      if (taken.length > 0) {
        // One process owns the directory and there is no rebalancing: a second consumer would only double-deliver.
        throw new AppError(
          'INTERNAL',
          `consumer group "${consumerOptions.groupId}" already has a consumer of ${taken.join(', ')} in this process; the embedded log allows one per group and topic`,
        );
      }
      for (const key of keys) subscriptions.add(key);
      try {
        let offsets = groups.get(consumerOptions.groupId);
        if (!offsets) {
          offsets = openGroupOffsets(groupsDir, consumerOptions.groupId);
          groups.set(consumerOptions.groupId, offsets);
          offsets.catch(() => groups.delete(consumerOptions.groupId));
        }
        const groupOffsets = await offsets;
        // close() may have begun while the offsets file was read; it would not know about this consumer.
        if (state !== 'open') throw closedError();
        const consumer = startConsumer({
          options: consumerOptions,
          topics: subscribed,
          offsets: groupOffsets,
          pollIntervalMs,
          retry,
          logger,
        });
        const handle: LogConsumer = {
          groupId: consumer.groupId,
          state: () => consumer.state(),
          healthy: () => consumer.healthy(),
          assignment: () => null,
          async close() {
            try {
              await consumer.close();
            } finally {
              consumers.delete(handle);
              for (const key of keys) subscriptions.delete(key);
            }
          },
        };
        consumers.add(handle);
        return handle;
      } catch (error) {
        for (const key of keys) subscriptions.delete(key);
        throw error;
      }
    },

    consumers: () => [...consumers],

    async endOffsets(topicName) {
      if (state === 'closed') throw closedError();
      const topic = topicOrThrow(topicName, 'endOffsets');
      return Object.fromEntries(topic.partitions.map((partition) => [partition.index, String(partition.endOffset())]));
    },

    async committedOffsets(groupId, topicName) {
      if (state === 'closed') throw closedError();
      const topic = topicOrThrow(topicName, 'committedOffsets');
      // The group's offsets as this process holds them, or as its file has them when no consumer of it ran here.
      const offsets = await (groups.get(groupId) ?? openGroupOffsets(groupsDir, groupId));
      const committed: Record<number, string> = {};
      for (const partition of topic.partitions) {
        const next = offsets.committed(topicName, partition.index);
        if (next !== undefined) committed[partition.index] = String(next);
      }
      return committed;
    },

    async ready() {
      if (state !== 'open') return false;
      for (const topic of topics.values()) if (topic.partitions.some((partition) => partition.failure())) return false;
      return true;
    },

    close() {
      closing ??= (async () => {
        state = 'draining';
        clearInterval(retentionTimer);
        await retaining;
        const consumerResults = await Promise.allSettled([...consumers].map((consumer) => consumer.close()));
        state = 'closed';
        await topicChanges;
        try {
          await closeTopics(topics.values());
        } finally {
          await lock.release();
        }
        const failed = consumerResults.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) throw failed.reason;
        logger.info({ dir: options.dir }, 'embedded log closed');
      })();
      return closing;
    },
  };
}
