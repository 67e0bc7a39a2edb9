// The Segment-compatible tracking endpoints: validate, enrich, append to the log, answer once it is durable.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError, type ChannelsConfig, type EventLog, type KeyStore, type Metrics } from '@cdp/runtime';
import { batchBody, type EventRecord, type MessageType, type TopicNames } from '@cdp/schemas';
import type { AppendEvents } from '../append';
import { verifyWriteKey, writeKeyOf, type WriteGrant } from '../auth';
import { bodyBytesOf } from '../body';
import type { ClientIpPolicy, RequestContext } from '../enrich';
import { inspectJson } from '../inspect';
import { batchDoc, shortFormDoc, singleDoc } from './ingest-docs';
import { toEvent, type EventIssue } from '../pipeline';

export interface IngestDeps {
  log: EventLog;
  topics: TopicNames;
  keys: KeyStore;
  metrics: Metrics;
  logger: Logger;
  /** What is kept of a client's IP address in `context.ip`: all of it (the default), its network, or nothing. */
  clientIp?: ClientIpPolicy;
  /** The messaging channels whose webhooks are accepted (`/v1/channels/*`); none unless configured. */
  channels?: ChannelsConfig;
}

export const maxRequestBytes = 500 * 1024;
export const requestContext = (request: FastifyRequest): RequestContext => ({
  ip: request.ip ?? null,
  userAgent: request.headers['user-agent'] ?? null,
});

export function ingestRoutes(app: FastifyInstance, deps: IngestDeps, append: AppendEvents): void {
  const rejected = deps.metrics.counter('cdp_ingest_events_rejected_total', 'Events refused at the edge');

  async function authenticate(request: FastifyRequest): Promise<WriteGrant> {
    // The header's key, checked before the body was read (protect.ts): the key writeKeyOf would find first.
    if (request.verifiedWrite) return request.verifiedWrite.grant;
    const key = writeKeyOf(request);
    if (!key)
      throw new AppError('MISSING_WRITE_KEY', 'a write key is required: HTTP Basic username, or writeKey in the body');
    return verifyWriteKey(deps.keys, key);
  }

  function answer(reply: FastifyReply, issues: EventIssue[], total: number) {
    if (issues.length === 0) return reply.send({ success: true });
    const invalid = new Set(issues.map((issue) => issue.index)).size;
    rejected.inc(invalid);
    throw new AppError(
      'INVALID_EVENT',
      `${invalid} of ${total} events are invalid and were not accepted; the other ${total - invalid} were`,
      issues,
    );
  }

  const single = (type: MessageType) => async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = Date.now();
    const { source, trusted } = await authenticate(request);
    const result = toEvent({
      item: request.body,
      index: 0,
      forcedType: type,
      receivedAt,
      source,
      request: requestContext(request),
      clientIp: deps.clientIp ?? 'keep',
      bodyBytes: bodyBytesOf(request),
    });
    if ('issues' in result) {
      // One event over the per-event limit is the whole request: answer it like the request limit.
      if (result.tooLarge)
        throw new AppError('PAYLOAD_TOO_LARGE', result.issues[0]?.message ?? 'the event is too large');
      return answer(reply, result.issues, 1);
    }
    await append([result.event], trusted);
    return reply.send({ success: true });
  };

  const batch = async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = Date.now();
    const { source, trusted } = await authenticate(request);
    // Checked before zod, which copies records key by key and would turn a `__proto__` key into a prototype.
    const { batch: _items, ...rawShared } = (
      typeof request.body === 'object' && request.body !== null ? request.body : {}
    ) as Record<string, unknown>;
    const sharedProblem = inspectJson(rawShared);
    if (sharedProblem)
      throw new AppError('INVALID_REQUEST', `${sharedProblem.path}: ${sharedProblem.message}`, [sharedProblem]);
    const envelope = batchBody.safeParse(request.body);
    if (!envelope.success) {
      throw new AppError(
        'INVALID_REQUEST',
        'body must be an object with a non-empty `batch` array',
        envelope.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      );
    }
    const { batch: items, ...shared } = envelope.data;
    const issues: EventIssue[] = [];
    const events: EventRecord[] = [];
    const context = requestContext(request);
    const bodyBytes = bodyBytesOf(request);
    items.forEach((item, index) => {
      const result = toEvent({
        item,
        index,
        receivedAt,
        source,
        request: context,
        clientIp: deps.clientIp ?? 'keep',
        batchSentAt: shared.sentAt,
        batchContext: shared.context,
        bodyBytes,
      });
      if ('issues' in result) issues.push(...result.issues);
      else events.push(result.event);
    });
    await append(events, trusted);
    return answer(reply, issues, items.length);
  };

  const bodyLimit = maxRequestBytes;
  // analytics.js posts to the first letter of the type (`/v1/t`) and batches to `/v1/b`, as Segment's API allows.
  for (const type of ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const) {
    app.post(`/v1/${type}`, { bodyLimit, ...singleDoc(type) }, single(type));
    app.post(`/v1/${type.charAt(0)}`, { bodyLimit, ...shortFormDoc(`/v1/${type}`) }, single(type));
  }
  for (const path of ['/v1/batch', '/v1/import']) app.post(path, { bodyLimit, ...batchDoc(path) }, batch);
  app.post('/v1/b', { bodyLimit, ...shortFormDoc('/v1/batch') }, batch);
}
