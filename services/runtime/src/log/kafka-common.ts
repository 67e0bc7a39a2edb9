// What the two Kafka adapters (kafka.ts on kafkajs, kafka-platformatic.ts on @platformatic/kafka) share.
import type { EventLog, LogConsumer, LogRecord, TopicSpec } from './types';

export const defaultMaxBatchSize = 500;
export const maxReplicationFactor = 3;
export const retryBackoffMs = { first: 500, max: 30_000 };
/**
 * A member silent this long is evicted and its partitions go to another member, which gets the uncommitted records
 * again; it also bounds how long a member that died without leaving holds its partitions. Short for a quick
 * recovery: handlers that run longer (a resolver chunk waits up to 30 s for identity links) are covered by the
 * heartbeat beaten while they run.
 */
export const sessionTimeoutMs = 10_000;
export const heartbeatIntervalMs = 1_000;
const readyTimeoutMs = 2_000;

/**
 * At most about this many bytes of records (keys and values, and 64 a record for its headers and framing) go in one
 * send of calls that waited together: half a broker's default message.max.bytes (1 MB), which bounds one partition's
 * batch, so that calls joined together are never refused for a size none of them has alone.
 */
export const joinedSendBytes = 512 * 1024;

const roughBytes = (records: LogRecord[]) =>
  records.reduce((bytes, record) => bytes + record.key.length + record.value.length + 64, 0);

/**
 * Produce calls over `send`, one send at a time: concurrent sends of an idempotent producer to one partition reach the
 * broker out of sequence (or, on kafkajs, wait for each other, one request of one call at a time). Calls that arrive
 * while a send is under way wait for the next one, which carries the waiting calls for the first waiting call's topic,
 * in the order they came, up to `maxBytes` (a call larger than that goes alone): a failure is those callers' alone.
 */
export function oneSendAtATime(
  send: (topic: string, records: LogRecord[]) => Promise<void>,
  maxBytes = joinedSendBytes,
): (topic: string, records: LogRecord[]) => Promise<void> {
  const waiting: Array<{ topic: string; records: LogRecord[]; bytes: number; settle: (error?: unknown) => void }> = [];
  let sending = false;

  async function sendWaiting(): Promise<void> {
    sending = true;
    while (waiting.length > 0) {
      const topic = waiting[0]!.topic;
      const calls: typeof waiting = [];
      let bytes = 0;
      for (const call of waiting) {
        if (call.topic !== topic) continue;
        if (calls.length > 0 && bytes + call.bytes > maxBytes) break;
        calls.push(call);
        bytes += call.bytes;
      }
      const taken = new Set(calls);
      waiting.splice(0, waiting.length, ...waiting.filter((call) => !taken.has(call)));
      try {
        await send(topic, calls.length === 1 ? calls[0]!.records : calls.flatMap((call) => call.records));
        for (const call of calls) call.settle();
      } catch (error) {
        for (const call of calls) call.settle(error);
      }
    }
    sending = false;
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

/** The settings a new topic is created with. */
export function topicConfigEntries(
  topic: TopicSpec,
  replicationFactor: number,
): Array<{ name: string; value: string }> {
  // acks=all only means "on more than one disk" when a write needs more than the leader in sync.
  return [
    { name: 'min.insync.replicas', value: String(Math.max(1, replicationFactor - 1)) },
    ...(topic.keepForever
      ? [
          { name: 'retention.ms', value: '-1' },
          { name: 'retention.bytes', value: '-1' },
        ]
      : topic.retentionMs !== undefined
        ? [{ name: 'retention.ms', value: String(topic.retentionMs) }]
        : []),
  ];
}

type KafkaLogParts = Omit<EventLog, 'kind' | 'consumers' | 'ready' | 'close'> & {
  consumers: Set<LogConsumer>;
  /** Whether the cluster answers with at least one broker. */
  probe: () => Promise<boolean>;
  /** Closes the producer and admin clients. */
  disconnect: () => Promise<unknown>;
};

/** The EventLog of an adapter's parts: readiness is one probe at a time, given up on after 2 s; close ends consumers first. */
export function kafkaEventLog(parts: KafkaLogParts): EventLog {
  const { consumers, probe, disconnect, ...operations } = parts;
  // One probe at a time: during an outage the client keeps retrying inside a probe long after ready() gave up on it.
  let probeInFlight: Promise<boolean> | undefined;
  async function ready(): Promise<boolean> {
    probeInFlight ??= probe()
      .catch(() => false)
      .finally(() => {
        probeInFlight = undefined;
      });
    return withTimeout(probeInFlight, readyTimeoutMs, false);
  }
  return {
    kind: 'kafka',
    ...operations,
    consumers: () => [...consumers],
    ready,
    close: async () => {
      await Promise.all([...consumers].map((consumer) => consumer.close()));
      await disconnect();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
