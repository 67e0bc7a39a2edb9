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
 * At most about this many bytes of records go in one send of calls that waited together: half a broker's default
 * message.max.bytes (1 MB), which bounds one partition's batch, so that calls joined together stay well under a size
 * none of them has alone. An estimate with room to spare: a key counts its UTF-16 length, headers and framing 64 bytes
 * a record.
 */
export const joinedSendBytes = 512 * 1024;

const roughBytes = (records: LogRecord[]) =>
  records.reduce((bytes, record) => bytes + record.key.length + record.value.length + 64, 0);

/**
 * Produce calls over `send`, one send at a time. Calls that arrive while a send is under way wait for the next one,
 * which carries the waiting calls for the first waiting call's topic, in the order they came, up to `maxBytes` (a
 * call larger than that goes alone; the topic's later calls wait for a later send): a failure is those callers' alone.
 */
export function oneSendAtATime(
  send: (topic: string, records: LogRecord[]) => Promise<void>,
  maxBytes = joinedSendBytes,
): (topic: string, records: LogRecord[]) => Promise<void> {
  const waiting: Array<{ topic: string; records: LogRecord[]; bytes: number; settle: (error?: unknown) => void }> = [];
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
