// What the two Kafka adapters (kafka.ts on kafkajs, kafka-platformatic.ts on @platformatic/kafka) share.
import type { EventLog, LogConsumer, TopicSpec } from './types';

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
