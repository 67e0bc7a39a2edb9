// Once per test run: one Kafka broker for every suite (from KAFKA_BROKERS, testcontainers, or the local jars).
import type { TestProject } from 'vitest/node';
import { createLogger } from '@cdp/runtime';
import { provideKafka } from './kafka';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSource: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'test-harness' });
  const kafka = await provideKafka(logger);
  project.provide('kafkaBrokers', kafka.brokers);
  project.provide('kafkaSource', kafka.source);
  process.stdout.write(`[harness] Kafka from ${kafka.source} at ${kafka.brokers}\n`);
  return () => kafka.stop();
}
