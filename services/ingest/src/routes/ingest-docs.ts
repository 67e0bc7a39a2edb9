// OpenAPI documentation of the tracking endpoints: bodies derived from the zod message schemas, answers with examples.
import { z } from 'zod';
import {
  documented,
  errorReply,
  type DocumentedRoute,
  jsonReply,
  retryAfterHeader,
  writeKeySecurity,
  type JsonSchema,
  type ResponseDoc,
  type RouteDoc,
} from '@cdp/runtime';
import { batchBody, messageSchemas, type MessageType } from '@cdp/schemas';

/** The schema of what a client sends (zod's input side: ids as strings or numbers), in OpenAPI 3.0's dialect. */
function requestSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

const componentName = (type: MessageType) => `${type.charAt(0).toUpperCase()}${type.slice(1)}Message`;

const messageNotes: Record<MessageType, string> = {
  track: 'An action the customer took (`Order Completed`, `Ticket Opened`, …) with its properties.',
  identify: "Who the customer is: ties `userId` to the device's `anonymousId` and records traits (email, phone, …).",
  page: 'A page view on a website.',
  screen: 'A screen view in a mobile app.',
  group: 'Associates the customer with a group (a company, an account).',
  alias: 'Links a previous identifier (`previousId`) to `userId`.',
};

const examples: Record<MessageType, Record<string, unknown>> = {
  track: {
    userId: 'ada',
    event: 'Order Completed',
    properties: { order_id: 'o-1001', revenue: 42, currency: 'EUR', channel: 'web' },
    timestamp: '2025-03-01T12:00:00.000Z',
  },
  identify: {
    userId: 'ada',
    anonymousId: 'd1b3c9a0-5f1e-4c1a-9d7e-3b2f1a0c9e88',
    traits: { email: 'ada@example.com', phone: '+44 20 7946 0958', plan: 'pro' },
  },
  page: {
    anonymousId: 'd1b3c9a0-5f1e-4c1a-9d7e-3b2f1a0c9e88',
    name: 'Pricing',
    properties: { url: 'https://example.com/pricing' },
  },
  screen: { userId: 'ada', name: 'Basket', properties: { items: 2 } },
  group: { userId: 'ada', groupId: 'acme', traits: { name: 'Acme Ltd', plan: 'enterprise' } },
  alias: { userId: 'ada', previousId: 'd1b3c9a0-5f1e-4c1a-9d7e-3b2f1a0c9e88' },
};

const messageComponents: Record<string, JsonSchema> = Object.fromEntries(
  Object.entries(messageSchemas).map(([type, schema]) => [
    componentName(type as MessageType),
    {
      ...requestSchema(schema),
      description: `${messageNotes[type as MessageType]} Every message needs \`userId\` or \`anonymousId\`.`,
    },
  ]),
);

/** A single endpoint takes its type from the path, so the body's `type` is optional there. */
function singleBodySchema(type: MessageType): JsonSchema {
  const { required = [], ...schema } = messageComponents[componentName(type)] as JsonSchema & { required?: string[] };
  const stillRequired = required.filter((name) => name !== 'type');
  // OpenAPI 3.0 refuses an empty `required`.
  return stillRequired.length > 0 ? { ...schema, required: stillRequired } : schema;
}

const batchSchema: JsonSchema = {
  ...requestSchema(batchBody),
  description: 'Up to 500 KB of messages; each is validated on its own, so one bad event does not sink the others.',
};
(batchSchema.properties as Record<string, JsonSchema>).batch = {
  type: 'array',
  minItems: 1,
  description:
    'Messages of any type, each with its `type`; `context`, `integrations` and `sentAt` of the envelope apply to every one.',
  items: {
    oneOf: Object.keys(messageSchemas).map((type) => ({
      $ref: `#/components/schemas/${componentName(type as MessageType)}`,
    })),
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(
        Object.keys(messageSchemas).map((type) => [type, `#/components/schemas/${componentName(type as MessageType)}`]),
      ),
    },
  },
};

const accepted = jsonReply(
  'Every event is durably in the event log',
  { type: 'object', additionalProperties: true, properties: { success: { type: 'boolean', enum: [true] } } },
  { success: true },
);

const invalidEvent = {
  code: 'INVALID_EVENT',
  message: '1 of 2 events are invalid and were not accepted; the other 1 were',
  errors: [{ index: 1, path: 'event', message: 'Invalid input: expected string, received undefined' }],
} as const;

function answers(batch: boolean): Record<string, ResponseDoc> {
  return {
    200: accepted,
    400: errorReply('Malformed body or invalid events; the valid events of a batch are accepted all the same', [
      batch
        ? invalidEvent
        : {
            ...invalidEvent,
            message: '1 of 1 events are invalid and were not accepted; the other 0 were',
            errors: [{ index: 0, path: 'event', message: 'Invalid input: expected string, received undefined' }],
          },
      { code: 'INVALID_JSON', message: 'body is not valid JSON: Unexpected end of JSON input' },
      ...(batch
        ? [
            {
              code: 'INVALID_REQUEST' as const,
              message: 'body must be an object with a non-empty `batch` array',
              errors: [{ path: 'batch', message: 'batch must hold at least one event' }],
            },
          ]
        : []),
    ]),
    401: errorReply('No write key, or an unknown or revoked one', [
      { code: 'MISSING_WRITE_KEY', message: 'a write key is required: HTTP Basic username, or writeKey in the body' },
      { code: 'UNKNOWN_WRITE_KEY', message: 'the write key is unknown or revoked' },
    ]),
    413: errorReply(
      batch
        ? 'The request is over 500 KB after gzip decoding'
        : 'The event is over 32 KB, or the request over 500 KB after gzip decoding',
      [
        {
          code: 'PAYLOAD_TOO_LARGE',
          message: 'the request body is larger than 500 KB (after gzip decoding); send smaller batches',
        },
      ],
    ),
    415: errorReply('A content type other than JSON or text/plain, or an encoding other than gzip', [
      { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'content-encoding br is not supported; send gzip or none' },
    ]),
    429: errorReply(
      'More requests in a second for this write key than CDP_RATE_LIMIT_PER_SECOND',
      [{ code: 'RATE_LIMITED', message: 'more than 10000 requests per second for this write key; retry in 1 second' }],
      retryAfterHeader,
    ),
    503: errorReply(
      'Overloaded, or the event log did not acknowledge in time; nothing of the request was accepted',
      [
        { code: 'LOG_UNAVAILABLE', message: 'the event log is unavailable; retry later' },
        { code: 'OVERLOADED', message: 'the server is overloaded (eventLoopDelay: 1500); retry later' },
      ],
      retryAfterHeader,
    ),
  };
}

const bodyNotes =
  'JSON, gzip-encoded JSON (`Content-Encoding: gzip`), or `text/plain` holding JSON (navigator.sendBeacon). ' +
  'Bodies are validated per event by the ingest pipeline, not by this schema alone: see the 400 answer.';

const common: Pick<RouteDoc, 'tags' | 'security' | 'components'> = {
  tags: ['ingest'],
  security: writeKeySecurity,
  components: messageComponents,
};
const mediaTypes = ['application/json', 'text/plain'];

export function singleDoc(type: MessageType): DocumentedRoute {
  return documented({
    ...common,
    summary: `Send one ${type} message`,
    description:
      `${messageNotes[type]} Answers 200 once the event is durably in the event log. ` +
      `analytics.js posts the same to the short form \`/v1/${type.charAt(0)}\`. ` +
      'The server adds `messageId` (unless sent), `receivedAt`, and a clock-skew-corrected `timestamp` when `sentAt` is given.',
    body: { schema: singleBodySchema(type), description: bodyNotes, mediaTypes, example: examples[type] },
    responses: answers(false),
  });
}

export function batchDoc(path: string): DocumentedRoute {
  return documented({
    ...common,
    summary: path === '/v1/import' ? 'Send a batch of messages (alias of /v1/batch)' : 'Send a batch of messages',
    description:
      'Several messages of any type in one request, as analytics-node and server-side integrations send them. ' +
      'The valid events are accepted even when others are not; the 400 answer lists the invalid ones by index. ' +
      (path === '/v1/batch'
        ? 'analytics.js posts the same to the short form `/v1/b`; `/v1/import` is an alias.'
        : 'Same as `/v1/batch`.'),
    body: {
      schema: batchSchema,
      description: bodyNotes,
      mediaTypes,
      example: {
        batch: [
          { type: 'track', ...examples.track },
          { type: 'identify', ...examples.identify },
        ],
        sentAt: '2025-03-01T12:00:01.000Z',
      },
    },
    responses: answers(true),
  });
}

/** The short forms are aliases: the document shows each once, under its full path. */
export function shortFormDoc(fullPath: string): DocumentedRoute {
  return documented({
    ...common,
    hide: true,
    summary: `Short form of POST ${fullPath} (analytics.js)`,
    responses: { 200: accepted },
  });
}
