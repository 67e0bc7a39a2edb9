// Picks the event-log adapter from configuration: Kafka when KAFKA_BROKERS is set (on kafkajs or @platformatic/kafka,
// CDP_KAFKA_CLIENT), else the embedded on-disk log.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config, KafkaClient } from '../config';
import { AppError } from '../errors';
import { openEmbeddedLog } from './embedded';
import { createKafkaLog, type KafkaLogOptions } from './kafka';
import { createPlatformaticKafkaLog } from './kafka-platformatic';
import type { EventLog } from './types';

export * from './types';
export { openEmbeddedLog } from './embedded';
export { createKafkaLog } from './kafka';
export { createPlatformaticKafkaLog } from './kafka-platformatic';
export { consumerReadiness, watchConsumers } from './health';

/**
 * Whether a produce or consume failed because the event log is away for now (the embedded log closed, a Kafka error
 * kafkajs may recover from), not because of what was asked: worth trying the same again later.
 */
export function isLogUnavailable(error: unknown): boolean {
  if (error instanceof AppError) return error.code === 'LOG_UNAVAILABLE';
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  // @platformatic/kafka marks its errors with a PLT_KFK_ code.
  return (
    (typeof name === 'string' && name.startsWith('KafkaJS')) ||
    (typeof code === 'string' && code.startsWith('PLT_KFK_'))
  );
}

/** The Kafka adapter on the given client library. */
export function kafkaLogOn(client: KafkaClient): (options: KafkaLogOptions) => EventLog {
  return client === 'platformatic' ? createPlatformaticKafkaLog : createKafkaLog;
}

export async function createEventLog(
  config: Pick<Config, 'kafka' | 'dataDir' | 'topicPartitions'>,
  logger: Logger,
): Promise<EventLog> {
  if (config.kafka) {
    return kafkaLogOn(config.kafka.client)({
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      logger,
      defaultPartitions: config.topicPartitions,
    });
  }
  return openEmbeddedLog({ dir: path.join(config.dataDir, 'log'), logger, defaultPartitions: config.topicPartitions });
}
