// Kafka consumers' health against a real broker: a slow handler keeps its partition; a stopped consumer shows in /readyz and /metrics.
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHttpServer } from '../http';
import { createMetrics } from '../metrics';
import { waitFor } from '../poll';
import { consumerReadiness, watchConsumers } from './health';
import { kafkaLogOn } from './index';
import { UnrecoverableBatchError, type EventLog, type LogConsumer } from './types';

/** The client library under test: kafkajs unless CDP_KAFKA_CLIENT=platformatic. */
const createKafkaLog = kafkaLogOn(process.env.CDP_KAFKA_CLIENT === 'platformatic' ? 'platformatic' : 'kafkajs');

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

interface Broker {
  brokers: string;
  stop(): Promise<void>;
}

/** The run's broker from test/harness/global-setup.ts when there is one; else this file starts its own (see kafka.test.ts). */
async function broker(): Promise<Broker> {
  const shared = inject('kafkaBrokers');
  if (shared) return { brokers: shared, stop: async () => undefined };
  const harness = new URL('../../../../test/harness/kafka.ts', import.meta.url).href;
  const { provideKafka } = (await import(harness)) as { provideKafka: (logger: Logger) => Promise<Broker> };
  return provideKafka(logger);
}

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', name: 'kafka-health-test' });
/** Longer than the consumers' session timeout (10 s): a member silent this long would be evicted. */
const slowerThanTheSession = 13_000;

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

describe('Kafka consumer health', { timeout: 120_000 }, () => {
  let kafka: Broker;
  const logs: EventLog[] = [];
  const consumers: LogConsumer[] = [];

  /** A log of its own: a process of its own as far as the group coordinator can tell. */
  function openLog(clientId: string): EventLog {
    const log = createKafkaLog({ brokers: kafka.brokers.split(','), clientId, logger });
    logs.push(log);
    return log;
  }

  beforeAll(async () => {
    kafka = await broker();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.close()));
    await Promise.all(logs.map((log) => log.close()));
    await kafka?.stop();
  });

  it('a handler slower than the session timeout keeps its partition: no rebalance hands its records to the other member', async () => {
    const topic = uniqueName('slow');
    const groupId = uniqueName('slow-group');
    const first = openLog('health-test-first');
    const second = openLog('health-test-second');
    await first.ensureTopics([{ name: topic, partitions: 1 }]);
    const deliveries: Array<{ member: string; value: string }> = [];
    const member = (name: string) => async (batch: { records: Array<{ value: Buffer }> }) => {
      for (const record of batch.records) {
        const value = record.value.toString('utf8');
        deliveries.push({ member: name, value });
        // A dependency that takes its time (the resolver waits up to 30 s for identity links); it never calls heartbeat.
        if (value === 'slow' && deliveries.filter((delivery) => delivery.value === 'slow').length === 1) {
          await new Promise((resolve) => setTimeout(resolve, slowerThanTheSession));
        }
      }
    };
    // Each consume() resolves once its member has joined: after the second, the group is settled with both.
    consumers.push(await first.consume({ groupId, topics: [topic], handleBatch: member('first') }));
    consumers.push(await second.consume({ groupId, topics: [topic], handleBatch: member('second') }));

    await first.produce(topic, [{ key: 'k', value: Buffer.from('slow') }]);
    await waitFor(() => deliveries.some((delivery) => delivery.value === 'slow'), {
      timeoutMs: 30_000,
      what: 'the slow record',
    });
    const holder = deliveries.find((delivery) => delivery.value === 'slow')?.member;
    await first.produce(topic, [{ key: 'k', value: Buffer.from('after') }]);
    await waitFor(() => deliveries.some((delivery) => delivery.value === 'after'), {
      timeoutMs: 60_000,
      what: 'the record after it',
    });

    expect(deliveries.filter((delivery) => delivery.value === 'slow')).toEqual([{ member: holder, value: 'slow' }]);
    expect(deliveries.find((delivery) => delivery.value === 'after')?.member).toBe(holder);
    expect(consumers.slice(-2).map((consumer) => consumer.state())).toEqual(['running', 'running']);
  });

  it('a consumer whose handler fails beyond repair stops, and /readyz answers 503 and cdp_log_consumer_up 0 for its group', async () => {
    const topic = uniqueName('doomed');
    const groupId = uniqueName('doomed-group');
    const log = openLog('health-test-doomed');
    await log.ensureTopics([{ name: topic, partitions: 1 }]);
    const metrics = createMetrics();
    watchConsumers(log, metrics);
    const app = await createHttpServer({
      logger,
      metrics,
      readiness: { log: () => log.ready() },
      currentReadiness: consumerReadiness(log),
    });
    try {
      const consumer = await log.consume({
        groupId,
        topics: [topic],
        handleBatch: async () => {
          throw new UnrecoverableBatchError('the record names a schema this build cannot read');
        },
      });
      consumers.push(consumer);
      const before = await app.inject({ method: 'GET', url: '/readyz' });
      expect(before.statusCode).toBe(200);
      expect(before.json().checks).toEqual({ log: true, [`consumer:${groupId}`]: true });

      await log.produce(topic, [{ key: 'k', value: Buffer.from('unreadable') }]);
      const after = await waitFor(
        async () => {
          const reply = await app.inject({ method: 'GET', url: '/readyz' });
          return reply.statusCode === 503 ? reply : undefined;
        },
        { timeoutMs: 30_000, what: '/readyz to answer 503' },
      );
      expect(after.json()).toEqual({ status: 'not ready', checks: { log: true, [`consumer:${groupId}`]: false } });
      expect(consumer.state()).toBe('stopped');
      const scraped = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(scraped).toContain(`cdp_log_consumer_up{group="${groupId}"} 0`);
    } finally {
      await app.close();
    }
  });
});
