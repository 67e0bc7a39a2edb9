// Messaging channels' webhooks (Zalo OA, Messenger, a helpdesk): signature over the raw body, then the ingest pipeline.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, checkSignature, type ChannelsConfig } from '@cdp/runtime';
import type { EventRecord } from '@cdp/schemas';
import type { AppendEvents } from '../append';
import { parseJsonBody } from '../body';
import { helpdeskMessage, parseHelpdeskEvent } from '../channels/helpdesk';
import { asObject, invalidDelivery, type JsonObject } from '../channels/message';
import { messengerDelivery } from '../channels/messenger';
import { validHubSignature, validZaloSignature } from '../channels/signatures';
import { zaloMessage, zaloTimestampOf } from '../channels/zalo';
import { toEvent, type EventIssue } from '../pipeline';
import { helpdeskDoc, messengerDoc, messengerVerifyDoc, zaloDoc } from './channels-docs';
import { maxRequestBytes } from './ingest';

/** How far the helpdesk's signature time may be from ours, as for the webhooks we send. */
const helpdeskToleranceSeconds = 300;

const rawBodyOf = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

function headerOf(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (!text)
    throw new AppError('MISSING_SIGNATURE', `the ${name} header is required: the provider signs every delivery`);
  return text;
}

function jsonObjectOf(raw: Buffer): JsonObject {
  const body = parseJsonBody(raw);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidDelivery('the body must be a JSON object');
  return body as JsonObject;
}

function configured<T>(value: T | null | undefined, channel: string, variables: string): T {
  if (value) return value;
  throw new AppError('CHANNEL_NOT_CONFIGURED', `the ${channel} channel is not configured: set ${variables}`);
}

const equalText = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

export function channelRoutes(app: FastifyInstance, channels: ChannelsConfig | undefined, append: AppendEvents): void {
  // Signatures are over the bytes as sent: these routes read the body raw and parse it themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const maxAgeMs = channels?.maxAgeMs ?? 86_400_000;

  function refuseStale(times: number[], receivedAt: number): void {
    const oldest = Math.min(...times);
    if (receivedAt - oldest > maxAgeMs)
      throw new AppError(
        'STALE_REQUEST',
        `the delivery is from ${new Date(oldest).toISOString()}, older than the ${maxAgeMs / 3_600_000} h a redelivery is recognised within`,
      );
  }

  /** The mapped messages through the ingest pipeline; signed by the provider, so they are trusted. */
  async function accept(
    reply: FastifyReply,
    messages: JsonObject[],
    source: string,
    receivedAt: number,
  ): Promise<FastifyReply> {
    const issues: EventIssue[] = [];
    const events: EventRecord[] = [];
    messages.forEach((item, index) => {
      const result = toEvent({ item, index, receivedAt, source, request: { ip: null, userAgent: null } });
      if ('issues' in result) issues.push(...result.issues);
      else events.push(result.event);
    });
    await append(events, true);
    if (issues.length > 0)
      throw new AppError(
        'INVALID_EVENT',
        `${new Set(issues.map((issue) => issue.index)).size} of ${messages.length} events are invalid and were not accepted`,
        issues,
      );
    return reply.send({ success: true });
  }

  app.post('/v1/channels/zalo', { bodyLimit: maxRequestBytes, ...zaloDoc }, async (request, reply) => {
    const receivedAt = Date.now();
    const zalo = configured(channels?.zalo, 'Zalo', 'CDP_ZALO_APP_ID and CDP_ZALO_OA_SECRET');
    const signature = headerOf(request, 'x-zevent-signature');
    const raw = rawBodyOf(request);
    const body = jsonObjectOf(raw);
    const timestamp = zaloTimestampOf(body);
    if (!validZaloSignature(zalo, raw, timestamp, signature))
      throw new AppError(
        'INVALID_SIGNATURE',
        'X-ZEvent-Signature is not mac=sha256(app id + body + timestamp + OA secret key) for the configured Official Account',
      );
    refuseStale([Number(timestamp)], receivedAt);
    return accept(reply, [zaloMessage(body, zalo)], 'zalo', receivedAt);
  });

  app.get('/v1/channels/messenger', messengerVerifyDoc, async (request, reply) => {
    const messenger = configured(
      channels?.messenger,
      'Messenger',
      'CDP_MESSENGER_APP_SECRET and CDP_MESSENGER_VERIFY_TOKEN',
    );
    const query = asObject(request.query);
    const [mode, token, challenge] = ['hub.mode', 'hub.verify_token', 'hub.challenge'].map((name) => query[name]);
    if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string' || challenge === '')
      throw invalidDelivery('a subscription check carries hub.mode=subscribe, hub.verify_token and hub.challenge');
    if (!equalText(token, messenger.verifyToken))
      throw new AppError('INVALID_VERIFY_TOKEN', 'hub.verify_token is not the configured CDP_MESSENGER_VERIFY_TOKEN');
    return reply.type('text/plain; charset=utf-8').send(challenge);
  });

  app.post('/v1/channels/messenger', { bodyLimit: maxRequestBytes, ...messengerDoc }, async (request, reply) => {
    const receivedAt = Date.now();
    const messenger = configured(
      channels?.messenger,
      'Messenger',
      'CDP_MESSENGER_APP_SECRET and CDP_MESSENGER_VERIFY_TOKEN',
    );
    const signature = headerOf(request, 'x-hub-signature-256');
    const raw = rawBodyOf(request);
    if (!validHubSignature(messenger.appSecret, raw, signature))
      throw new AppError(
        'INVALID_SIGNATURE',
        'X-Hub-Signature-256 is not sha256=<HMAC-SHA256 of the body under the configured app secret>',
      );
    const delivery = messengerDelivery(jsonObjectOf(raw));
    refuseStale(delivery.times, receivedAt);
    return accept(reply, delivery.messages, 'messenger', receivedAt);
  });

  app.post('/v1/channels/helpdesk', { bodyLimit: maxRequestBytes, ...helpdeskDoc }, async (request, reply) => {
    const receivedAt = Date.now();
    const helpdesk = configured(channels?.helpdesk, 'helpdesk', 'CDP_HELPDESK_SECRET');
    const signature = headerOf(request, 'x-cdp-signature');
    const raw = rawBodyOf(request);
    const check = checkSignature(helpdesk.secret, raw, signature, {
      toleranceSeconds: helpdeskToleranceSeconds,
      now: Math.floor(receivedAt / 1000),
    });
    if (check === 'stale')
      throw new AppError(
        'STALE_REQUEST',
        `X-CDP-Signature's t is more than ${helpdeskToleranceSeconds} s from now: sign each delivery when sending it`,
      );
    if (check !== 'valid')
      throw new AppError(
        'INVALID_SIGNATURE',
        'X-CDP-Signature is not t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>" under CDP_HELPDESK_SECRET>',
      );
    const event = parseHelpdeskEvent(jsonObjectOf(raw));
    return accept(reply, [helpdeskMessage(event, helpdesk.name)], helpdesk.name, receivedAt);
  });
}
