// OpenAPI documentation of the profile endpoints: the profile reference, the answers and an example of each.
import { z } from 'zod';
import { documented, errorReply, retryAfterHeader, jsonReply, type ResponseDoc } from '@cdp/runtime';
import { profileRefTypes, refFormat } from '@cdp/profiles';
import { decodeCursor } from '../timeline';

export const refParams = z.object({
  ref: z
    .string()
    .regex(new RegExp(`^(${profileRefTypes.join('|')}):[\\s\\S]+$`), refFormat)
    .meta({
      description: `\`{type}:{value}\`, type one of ${profileRefTypes.join(', ')}; emails and phones are matched normalised, a merged profile's old id resolves to the survivor.`,
      examples: ['user_id:ada', 'email:ada@example.com', 'profile_id:prf_3f9a1c2b7d4e5f60718293a4'],
    }),
});

/** A page size from 1 to `max`, `fallback` when absent; the message says the whole rule whatever part of it fails. */
export const pageLimit = (max: number, fallback: number) => {
  const error = `must be a whole number from 1 to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(1, { error }).max(max, { error }).default(fallback);
};

export const timelineQuery = z.object({
  limit: pageLimit(1000, 50).describe('Events per page'),
  cursor: z
    .string()
    .transform(
      (text, context) =>
        decodeCursor(text) ?? (context.addIssue({ code: 'custom', message: 'not one this API handed out' }), z.NEVER),
    )
    .optional()
    .describe('`nextCursor` of the previous page'),
});

const nullableTime = { type: 'string', format: 'date-time', nullable: true };

const profileSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    profileId: { type: 'string', description: "Stable id; when two profiles merge, the survivor's" },
    identities: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string', enum: [...profileRefTypes] }, value: { type: 'string' } },
      },
    },
    traits: {
      type: 'object',
      additionalProperties: true,
      description: 'Latest value of each trait from identify calls',
    },
    stats: {
      type: 'object',
      additionalProperties: true,
      properties: {
        firstSeen: nullableTime,
        lastSeen: nullableTime,
        events: { type: 'integer', description: 'Accepted messages of every type, a retried messageId once' },
        orders: { type: 'integer' },
        revenue: { type: 'number' },
        lastOrderAt: nullableTime,
        channels: { type: 'array', items: { type: 'string' } },
        latestNps: { type: 'number', nullable: true },
        latestCsat: { type: 'number', nullable: true },
        openTickets: { type: 'integer' },
      },
    },
    segments: { type: 'array', items: { type: 'string' } },
    subscriptions: {
      type: 'object',
      description:
        'The latest state each channel was given: identify `traits.subscriptions.<channel>` (true / false or "subscribed" / "unsubscribed") or track `Subscribed` / `Unsubscribed` with `properties.channel`; a channel never stated is absent',
      properties: Object.fromEntries(
        ['email', 'sms', 'zalo', 'push'].map((channel) => [
          channel,
          { type: 'string', enum: ['subscribed', 'unsubscribed'] },
        ]),
      ),
    },
  },
};

const profileExample = {
  profileId: 'prf_3f9a1c2b7d4e5f60718293a4',
  identities: [
    { type: 'user_id', value: 'ada' },
    { type: 'email', value: 'ada@example.com' },
    { type: 'anonymous_id', value: 'd1b3c9a0-5f1e-4c1a-9d7e-3b2f1a0c9e88' },
  ],
  traits: { email: 'ada@example.com', plan: 'pro' },
  stats: {
    firstSeen: '2025-02-11T09:30:00.000Z',
    lastSeen: '2025-03-01T12:00:00.000Z',
    events: 17,
    orders: 2,
    revenue: 84,
    lastOrderAt: '2025-03-01T12:00:00.000Z',
    channels: ['email', 'web'],
    latestNps: 9,
    latestCsat: null,
    openTickets: 0,
  },
  segments: [],
  subscriptions: { email: 'subscribed', sms: 'unsubscribed' },
};

const timelineSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    events: {
      type: 'array',
      description: 'Newest first',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          messageId: { type: 'string' },
          type: { type: 'string' },
          event: { type: 'string', description: 'track only' },
          name: { type: 'string', description: 'page and screen only' },
          timestamp: { type: 'string', format: 'date-time' },
          channel: { type: 'string' },
          source: { type: 'string' },
          properties: { type: 'object', additionalProperties: true },
          traits: { type: 'object', additionalProperties: true },
          context: { type: 'object', additionalProperties: true },
        },
      },
    },
    nextCursor: {
      type: 'string',
      nullable: true,
      description: 'Pass as `cursor` for the next page; null on the last page',
    },
  },
};

const timelineExample = {
  events: [
    {
      messageId: 'b7e2c1d4-0a9f-4e3b-8c6d-5f4e3d2c1b0a',
      type: 'track',
      event: 'Order Completed',
      timestamp: '2025-03-01T12:00:00.000Z',
      channel: 'web',
      source: 'website',
      properties: { order_id: 'o-1001', revenue: 42, currency: 'EUR' },
      traits: {},
      context: { ip: '203.0.113.7' },
    },
  ],
  nextCursor: 'WyIyMDI1LTAzLTAxIDEyOjAwOjAwLjAwMCIsImI3ZTJjMWQ0Il0',
};

function errors(extra: Record<string, ResponseDoc>): Record<string, ResponseDoc> {
  return {
    404: errorReply('No profile has that identifier', [
      { code: 'NOT_FOUND', message: 'no profile has user_id nobody' },
    ]),
    ...extra,
    500: errorReply('A fault of ours', [{ code: 'INTERNAL', message: 'internal error' }]),
    503: errorReply(
      'ClickHouse does not answer right now: retry after the seconds Retry-After says',
      [
        {
          code: 'STORE_UNAVAILABLE',
          message: 'the analytics store (ClickHouse) does not answer right now; try again shortly',
        },
      ],
      retryAfterHeader,
    ),
  };
}

const badRef = {
  code: 'INVALID_REQUEST',
  message: `ref: ${refFormat}`,
  errors: [{ path: 'ref', message: refFormat }],
} as const;

export const profileDoc = documented({
  summary: "One customer's unified profile",
  description:
    'Identities, latest traits, stats computed from every event of the profile (merged profiles included) and segments.',
  tags: ['profiles'],
  scope: 'profiles',
  validate: { params: refParams },
  responses: {
    200: jsonReply('The profile', profileSchema, profileExample),
    ...errors({ 400: errorReply('A malformed profile reference', [badRef]) }),
  },
});

export const timelineDoc = documented({
  summary: "One customer's timeline",
  description:
    "The profile's events, newest first, a retried messageId once, in pages that stay stable while new events arrive.",
  tags: ['profiles'],
  scope: 'profiles',
  validate: { params: refParams, querystring: timelineQuery },
  responses: {
    200: jsonReply('A page of events', timelineSchema, timelineExample),
    ...errors({
      400: errorReply('A malformed profile reference, limit or cursor', [
        badRef,
        {
          code: 'INVALID_REQUEST',
          message: 'limit: must be a whole number from 1 to 1000',
          errors: [{ path: 'limit', message: 'must be a whole number from 1 to 1000' }],
        },
        {
          code: 'INVALID_REQUEST',
          message: 'cursor: not one this API handed out',
          errors: [{ path: 'cursor', message: 'not one this API handed out' }],
        },
      ]),
    }),
  },
});
