// The destinations service: webhooks fed by segment changes and events, delivered at least once with retries.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { identifierSalt } from '@cdp/privacy';
import {
  requireScopes,
  type ClickHouseClient,
  type DestinationsConfig,
  type EventLog,
  type KeyStore,
  type LogConsumer,
  type Metrics,
} from '@cdp/runtime';
import type { TopicNames } from '@cdp/schemas';
import { createSegmentStore } from '@cdp/segments';
import { startTriggerConsumer } from './consumer';
import { sharedReads } from './definition-reads';
import { createDestinationStore } from './definitions';
import { createDeliveryStore, type Share } from './deliveries';
import { startDispatcher } from './dispatcher';
import { startTimerPoller, type TimerPoller } from './poller';
import { createTimerStore } from './timers';
import { createAddressGuard } from './guard';
import { createPayloadReader } from './payload';
import { destinationRoutes } from './routes/destinations';
import { secretBox } from './secrets';
import { createSender } from './send';

export { createAddressGuard, RefusedAddress, type AddressGuard } from './guard';
export { signatureHeader, signatureOf, verifySignature } from './sign';
export { backoffDelay, nextAttempt, retryAfterMs } from './backoff';
export type { Destination } from './definitions';
export type { Payload } from './payload';

export interface DestinationsDeps {
  log: EventLog;
  topics: TopicNames;
  clickhouse: ClickHouseClient;
  keys: KeyStore;
  logger: Logger;
  metrics: Metrics;
  config: DestinationsConfig;
  groupId?: string;
}

export interface DestinationsService {
  /** The admin routes (`/v1/destinations…`), for the HTTP server of the process the service runs in. */
  routes: FastifyPluginAsync;
  close(): Promise<void>;
}

/** How long the trigger consumer trusts its list of destinations; a change made in this process clears it at once. */
const definitionsCacheMs = 1000;
/** The least time between two reads of the definitions (a batch newer than the list waits for the next read). */
const freshReadGapMs = 200;

export async function start(deps: DestinationsDeps): Promise<DestinationsService> {
  const logger = deps.logger.child({ component: 'destinations' });
  const store = createDestinationStore(deps.clickhouse, secretBox(await identifierSalt(deps.clickhouse)));
  const deliveries = createDeliveryStore(deps.clickhouse);
  const timers = createTimerStore(deps.clickhouse);
  const guard = createAddressGuard(deps.config.allow);
  const sender = createSender({ guard, timeoutMs: deps.config.timeoutMs });
  const segments = createSegmentStore(deps.clickhouse);
  const payloads = createPayloadReader(deps.clickhouse, async () =>
    (await segments.list()).map((segment) => segment.id),
  );
  // Until the consumer has joined its group this instance sends nothing: another may hold every partition.
  let share: () => Share = () => ({ count: 1, owned: [] });
  const dispatcher = startDispatcher({
    store,
    deliveries,
    payloads,
    sender,
    config: deps.config,
    metrics: deps.metrics,
    logger,
    share: () => share(),
  });

  // Paused destinations too: their deliveries are written and wait for the dispatcher, which sends only active ones.
  const everyDestination = sharedReads(() => store.list(), { cacheMs: definitionsCacheMs, gapMs: freshReadGapMs });
  store.onChange(() => everyDestination.forget());

  let consumer: LogConsumer;
  let poller: TimerPoller;
  try {
    const triggers = await startTriggerConsumer({
      log: deps.log,
      topics: deps.topics,
      groupId: deps.groupId ?? 'cdp-destinations',
      logger,
      deliveries,
      timers,
      destinations: everyDestination,
      enqueued: (ids) => dispatcher.wake(ids),
    });
    consumer = triggers.consumer;
    share = () => triggers.share();
    poller = startTimerPoller({
      client: deps.clickhouse,
      timers,
      deliveries,
      logger,
      metrics: deps.metrics,
      destinations: everyDestination,
      caughtUpThrough: () => triggers.caughtUpThrough(),
      enqueued: (ids) => dispatcher.wake(ids),
      share: () => triggers.share(),
      pollMs: deps.config.timerPollMs,
      anniversarySweepMs: deps.config.anniversarySweepMs,
    });
  } catch (error) {
    await dispatcher.close();
    await sender.close();
    throw error;
  }
  logger.info({ pollMs: deps.config.pollMs }, 'destinations delivering');

  return {
    routes: async (app) => {
      requireScopes(app, deps.keys);
      destinationRoutes(app, { store, deliveries, dispatcher, guard, payloads });
    },
    async close() {
      // The consumer commits what it wrote, the poller settles the page in hand; then workers finish their requests.
      await consumer.close();
      await poller.close();
      await dispatcher.close();
      await sender.close();
    },
  };
}
