// The one way events reach the log: Avro-encoded, keyed by customer, group-committed, an untrusted source marked.
import { AppError } from '@cdp/runtime';
import { encodeEvent, sourceTrustHeader, untrustedSource, type EventRecord } from '@cdp/schemas';
import { createAppender } from './appender';
import { partitionKey } from './enrich';
import type { IngestDeps } from './routes/ingest';

/** How long a request waits for the log's acknowledgement before it answers 503. */
const appendTimeoutMs = 10_000;

/** Appends events durably; `trusted` says whether their emails, phones and channel ids may link profiles. */
export type AppendEvents = (events: EventRecord[], trusted: boolean) => Promise<void>;

export function createEventAppend(deps: Pick<IngestDeps, 'log' | 'topics' | 'metrics' | 'logger'>): AppendEvents {
  const accepted = deps.metrics.counter('cdp_ingest_events_accepted_total', 'Events durably appended to the log', [
    'type',
  ]);
  const appendRecords = createAppender((records) => deps.log.produce(deps.topics.events, records), {
    maxGroupBytes: 900 * 1024,
    maxQueuedBytes: 64 * 1024 * 1024,
    timeoutMs: appendTimeoutMs,
  });

  return async (events, trusted) => {
    if (events.length === 0) return;
    const headers = trusted ? undefined : { [sourceTrustHeader]: untrustedSource };
    try {
      // A log that does not answer (Kafka retries an idempotent produce without end) must not hang the client.
      await appendRecords(
        events.map((event) => ({
          key: partitionKey(event),
          value: encodeEvent(event),
          ...(headers ? { headers } : {}),
        })),
      );
    } catch (error) {
      deps.logger.error({ err: error }, 'event log refused the append');
      throw new AppError('LOG_UNAVAILABLE', 'the event log is unavailable; retry later', undefined, 5);
    }
    for (const event of events) accepted.inc({ type: event.type });
  };
}
