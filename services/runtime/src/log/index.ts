// Picks the event-log adapter from configuration: Kafka when KAFKA_BROKERS is set, else the embedded on-disk log.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { AppError } from '../errors';
import { openEmbeddedLog } from './embedded';
import { createKafkaLog } from './kafka';
import type { EventLog } from './types';

export * from './types';
export { openEmbeddedLog } from './embedded';
export { createKafkaLog } from './kafka';
export { consumerReadiness, watchConsumers } from './health';

/**
 * Whether a produce or consume failed because the event log is away for now (the embedded log closed, a Kafka error
 * kafkajs may recover from), not because of what was asked: worth trying the same again later.
 */
export function isLogUnavailable(error: unknown): boolean {
  if (error instanceof AppError) return error.code === 'LOG_UNAVAILABLE';
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.startsWith('KafkaJS');
}

export async function createEventLog(
  config: Pick<Config, 'kafka' | 'dataDir' | 'topicPartitions'>,
  logger: Logger,
): Promise<EventLog> {
  if (config.kafka) {
    return createKafkaLog({
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      logger,
      defaultPartitions: config.topicPartitions,
    });
  }
  return openEmbeddedLog({ dir: path.join(config.dataDir, 'log'), logger, defaultPartitions: config.topicPartitions });
}
