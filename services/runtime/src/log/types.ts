// The event-log contract both adapters (Kafka, embedded on-disk log) implement; pipeline code sees only this.

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Keep every record for ever (Kafka: no time or size retention). */
  keepForever?: boolean;
  /**
   * How long records are kept after they were appended (Kafka's retention.ms, set on creation and changed on an
   * existing topic; the embedded log removes older records in the background). Unset: the log's default.
   */
  retentionMs?: number;
}

/** A record to append. Records with the same key always land on the same partition, in order. */
export interface LogRecord {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets are int64). */
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Append time, epoch milliseconds. */
  timestamp: number;
}

export interface RecordBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /**
   * Tells the log this consumer is alive (Kafka evicts a member silent for its session timeout, 10 s); absent where
   * nothing evicts (the embedded log). The Kafka adapter already beats every second while a handler runs; a handler
   * may still call it. Cheap to call often.
   */
  heartbeat?: () => Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /**
   * Called with records of one partition, in offset order. The offsets are committed only after the
   * returned promise resolves; if it rejects, the same records are delivered again after a back-off (but see
   * UnrecoverableBatchError). Kafka hears from the consumer while it runs, however long it takes.
   */
  handleBatch: (batch: RecordBatch) => Promise<void>;
  /** Upper bound on records per batch (adapters may deliver fewer). */
  maxBatchSize?: number;
  /**
   * Where to begin in a partition the group has no committed offset for: topic → partition → offset (decimal
   * string). Nothing before it is delivered. A committed offset always wins; a partition not named starts at its
   * beginning.
   */
  startOffsets?: Record<string, Record<number, string>>;
}

/**
 * `running`; `restarting` after a failure of the log client it recovers from by itself (Kafka: a retriable crash,
 * until the consumer has joined its group again); `stopped` when it consumes nothing more until the process restarts.
 */
export type ConsumerState = 'running' | 'restarting' | 'stopped';

export interface LogConsumer {
  readonly groupId: string;
  state(): ConsumerState;
  /** False once the consumer has stopped: readiness and `cdp_log_consumer_up` report it. */
  healthy(): boolean;
  /**
   * The partitions of each topic this member holds now, or null when it is the group's only member (the embedded log
   * has no rebalancing). Kafka changes it at every rebalance.
   */
  assignment(): Record<string, number[]> | null;
  /** Stops fetching, waits for the batch in hand to finish and commits it. */
  close(): Promise<void>;
}

/**
 * Thrown by a handler for a fault no delivery again can mend: the consumer stops instead of retrying, logs it, and
 * reports itself stopped (`state()`, readiness, metrics) until the process restarts. Any other error is retried.
 */
export class UnrecoverableBatchError extends Error {
  /** kafkajs' mark of an error not to retry. */
  readonly retriable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnrecoverableBatchError';
  }
}

export interface EventLog {
  readonly kind: 'kafka' | 'embedded';
  /** Creates the topics that do not exist yet (existing ones are left as they are). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves once every record is durably stored (Kafka: acks=all; embedded: fsync'd). */
  produce(topic: string, records: LogRecord[]): Promise<void>;
  consume(options: ConsumerOptions): Promise<LogConsumer>;
  /** The consumers opened on this log and not closed yet, stopped ones included. */
  consumers(): LogConsumer[];
  /** Per partition of the topic, the offset the next appended record will get (Kafka's high watermark). */
  endOffsets(topic: string): Promise<Record<number, string>>;
  /** Per partition of the topic the group has committed in, the next offset it will read; others are absent. */
  committedOffsets(groupId: string, topic: string): Promise<Record<number, string>>;
  /** True when the log can take writes now. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
