// The Segment-compatible tracking endpoints: validate, enrich, append to the log, answer once it is durable.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError, type EventLog, type KeyStore, type Metrics } from '@cdp/runtime';
import { batchBody, encodeEvent, parseMessage, type EventRecord, type MessageType, type TopicNames } from '@cdp/schemas';
import { writeKeyOf } from '../auth';
import { enrich, partitionKey } from '../enrich';

export interface IngestDeps {
  log: EventLog;
  topics: TopicNames;
  keys: KeyStore;
  metrics: Metrics;
  logger: Logger;
}

export const maxEventBytes = 32 * 1024;
export const maxRequestBytes = 500 * 1024;
/** How long a request waits for the log's acknowledgement before it answers 503. */
const appendTimeoutMs = 10_000;

interface EventIssue {
  index: number;
  path: string;
  message: string;
}

export function ingestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  const accepted = deps.metrics.counter('cdp_ingest_events_accepted_total', 'Events durably appended to the log', ['type']);
  const rejected = deps.metrics.counter('cdp_ingest_events_rejected_total', 'Events refused at the edge');

  async function authenticate(request: FastifyRequest): Promise<string> {
    const key = writeKeyOf(request);
    if (!key) throw new AppError('MISSING_WRITE_KEY', 'a write key is required: HTTP Basic username, or writeKey in the body');
    const source = await deps.keys.verify('write', key);
    if (!source) throw new AppError('UNKNOWN_WRITE_KEY', 'the write key is unknown or revoked');
    return source;
  }

  async function append(events: EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A log that does not answer (Kafka retries an idempotent produce without end) must not hang the client.
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no acknowledgement within ${appendTimeoutMs} ms`)), appendTimeoutMs);
      });
      await Promise.race([
        deps.log.produce(
          deps.topics.events,
          events.map((event) => ({ key: partitionKey(event), value: encodeEvent(event) })),
        ),
        timeout,
      ]);
    } catch (error) {
      deps.logger.error({ err: error }, 'event log refused the append');
      throw new AppError('LOG_UNAVAILABLE', 'the event log is unavailable; retry later', undefined, 5);
    } finally {
      clearTimeout(timer);
    }
    for (const event of events) accepted.inc({ type: event.type });
  }

  function answer(reply: FastifyReply, issues: EventIssue[], total: number) {
    if (issues.length === 0) return reply.send({ success: true });
    rejected.inc(issues.length);
    const invalid = new Set(issues.map((issue) => issue.index)).size;
    throw new AppError(
      'INVALID_EVENT',
      `${invalid} of ${total} events are invalid and were not accepted; the other ${total - invalid} were`,
      issues,
    );
  }

  const single = (type: MessageType) => async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = Date.now();
    const source = await authenticate(request);
    const body = request.body;
    if (Buffer.byteLength(JSON.stringify(body ?? null)) > maxEventBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `an event may be at most ${maxEventBytes / 1024} KB`);
    }
    const parsed = parseMessage(body, type);
    if (!parsed.ok) return answer(reply, parsed.issues.map((issue) => ({ index: 0, ...issue })), 1);
    await append([enrich({ message: parsed.message, receivedAt, source })]);
    return reply.send({ success: true });
  };

  const batch = async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = Date.now();
    const source = await authenticate(request);
    const envelope = batchBody.safeParse(request.body);
    if (!envelope.success) {
      throw new AppError(
        'INVALID_REQUEST',
        'body must be an object with a non-empty `batch` array',
        envelope.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      );
    }
    const issues: EventIssue[] = [];
    const events: EventRecord[] = [];
    envelope.data.batch.forEach((item, index) => {
      if (Buffer.byteLength(JSON.stringify(item ?? null)) > maxEventBytes) {
        issues.push({ index, path: '', message: `an event may be at most ${maxEventBytes / 1024} KB` });
        return;
      }
      const parsed = parseMessage(item);
      if (!parsed.ok) {
        issues.push(...parsed.issues.map((issue) => ({ index, ...issue })));
        return;
      }
      events.push(
        enrich({
          message: parsed.message,
          receivedAt,
          source,
          batchSentAt: envelope.data.sentAt,
          batchContext: envelope.data.context,
        }),
      );
    });
    await append(events);
    return answer(reply, issues, envelope.data.batch.length);
  };

  const routeOptions = { bodyLimit: maxRequestBytes };
  for (const type of ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const) {
    app.post(`/v1/${type}`, routeOptions, single(type));
  }
  app.post('/v1/batch', routeOptions, batch);
  app.post('/v1/import', routeOptions, batch);
}
