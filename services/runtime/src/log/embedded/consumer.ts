// A consumer of the embedded log: one loop per partition that reads, hands a batch over, commits, repeats.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { AppError } from '../../errors';
import {
  UnrecoverableBatchError,
  type ConsumedRecord,
  type ConsumerOptions,
  type LogConsumer,
  type RecordBatch,
} from '../types';
import type { GroupOffsets } from './offsets';
import type { Partition, PartitionCursor } from './partition';
import type { Topic } from './topics';

export interface RetryBackoff {
  /** First wait after a failed batch; doubles per consecutive failure. */
  initialMs: number;
  maxMs: number;
}

export interface ConsumerDeps {
  options: ConsumerOptions;
  topics: Topic[];
  offsets: GroupOffsets;
  pollIntervalMs: number;
  retry: RetryBackoff;
  logger: Logger;
}

/** Waits `ms`, or less if the signal aborts; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const toConsumed =
  (topic: string, partition: number) =>
  (frame: {
    offset: number;
    timestamp: number;
    key: string | null;
    headers: Record<string, string>;
    value: Buffer;
  }): ConsumedRecord => ({
    topic,
    partition,
    offset: String(frame.offset),
    key: frame.key,
    value: frame.value,
    headers: frame.headers,
    timestamp: frame.timestamp,
  });

/** The start offset asked for each partition of the subscribed topics; refuses one that is not an offset. */
function startOffsetsOf(options: ConsumerOptions, topics: Topic[]): Map<Partition, number> {
  const starts = new Map<Partition, number>();
  for (const topic of topics) {
    for (const partition of topic.partitions) {
      const asked = options.startOffsets?.[topic.name]?.[partition.index];
      if (asked === undefined) continue;
      if (!/^\d+$/.test(asked) || !Number.isSafeInteger(Number(asked))) {
        throw new AppError(
          'INTERNAL',
          `consume (group ${options.groupId}): start offset "${asked}" of ${topic.name}/${partition.index} is not an offset`,
        );
      }
      starts.set(partition, Number(asked));
    }
  }
  return starts;
}

export function startConsumer(deps: ConsumerDeps): LogConsumer {
  const { options, offsets, retry } = deps;
  const startOffsets = startOffsetsOf(options, deps.topics);
  const maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 500));
  const logger = deps.logger.child({ component: 'embedded-log-consumer', groupId: options.groupId });
  const stop = new AbortController();
  // Every partition's loop waits on this one signal at once: a consumer of several topics has more than Node's
  // default ten listeners, which is not a leak.
  setMaxListeners(0, stop.signal);
  // Set when the consumer ends on its own: a handler's UnrecoverableBatchError, or a partition loop that failed.
  let stopped = false;

  const backoff = (failures: number): number =>
    Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(failures - 1, 30));

  async function commit(partition: Partition, nextOffset: number, log: Logger): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        await offsets.commit(partition.topic, partition.index, nextOffset);
        return;
      } catch (error) {
        // Closing: report it through close() rather than retrying for ever.
        if (stop.signal.aborted) throw error;
        const retryInMs = backoff(failures);
        log.error({ err: error, nextOffset, attempt: failures, retryInMs }, 'committing the offset failed; retrying');
        await pause(retryInMs, stop.signal);
      }
    }
  }

  async function run(partition: Partition): Promise<void> {
    const log = logger.child({ topic: partition.topic, partition: partition.index });
    let start = offsets.committed(partition.topic, partition.index) ?? startOffsets.get(partition) ?? 0;
    if (start > partition.endOffset()) {
      // A committed one only if acknowledged records were removed outside the log's control (the file was replaced
      // or cut by hand, as the corrupt-segment recovery steps allow): the records from the end on are new ones.
      log.error(
        { start, endOffset: partition.endOffset() },
        'committed offset is past the end of the partition (records were removed by hand); starting at the end',
      );
      start = partition.endOffset();
    }
    if (start < partition.startOffset()) {
      log.warn(
        { start, startOffset: partition.startOffset() },
        'records before the start offset were removed by retention; starting at the first one held',
      );
      start = partition.startOffset();
    }
    let cursor: PartitionCursor = { offset: start };
    let failures = 0;
    const consumed = toConsumed(partition.topic, partition.index);

    while (!stop.signal.aborted) {
      if (cursor.offset >= partition.endOffset()) {
        await partition.waitForAppend(cursor.offset, deps.pollIntervalMs, stop.signal);
        continue;
      }
      let read;
      let batch: RecordBatch;
      try {
        read = await partition.read(cursor, maxBatchSize);
        if (read.records.length === 0) continue;
        batch = { topic: partition.topic, partition: partition.index, records: read.records.map(consumed) };
        await options.handleBatch(batch);
      } catch (error) {
        if (error instanceof UnrecoverableBatchError) {
          log.error({ err: error, fromOffset: cursor.offset }, 'batch failed beyond repair; stopping the consumer');
          stopped = true;
          stop.abort();
          return;
        }
        failures++;
        const retryInMs = backoff(failures);
        log.error(
          { err: error, fromOffset: cursor.offset, records: read?.records.length, attempt: failures, retryInMs },
          'batch failed; it is delivered again after a back-off',
        );
        await pause(retryInMs, stop.signal);
        continue;
      }
      failures = 0;
      cursor = read.next;
      await commit(partition, read.next.offset, log);
    }
  }

  const loops = deps.topics.flatMap((topic) =>
    topic.partitions.map((partition) =>
      run(partition).catch((error: unknown) => {
        if (!stop.signal.aborted) {
          stopped = true;
          logger.error(
            { err: error, topic: topic.name, partition: partition.index },
            'a partition stopped with an error; the consumer has stopped',
          );
        }
        throw error;
      }),
    ),
  );
  const finished = Promise.allSettled(loops);
  logger.info({ topics: deps.topics.map((topic) => topic.name), partitions: loops.length }, 'consumer started');

  let closing: Promise<void> | null = null;
  return {
    groupId: options.groupId,
    state: () => (stopped ? 'stopped' : 'running'),
    healthy: () => !stopped,
    assignment: () => null,
    close() {
      closing ??= (async () => {
        stop.abort();
        const results = await finished;
        const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) {
          logger.error({ err: failed.reason }, 'consumer stopped with an error');
          throw failed.reason;
        }
        logger.info('consumer closed');
      })();
      return closing;
    },
  };
}
