// OpenAPI documentation of the destination routes; the body's JSON Schema is derived from its zod schema.
import { z } from 'zod';
import { documented, errorReply, jsonReply, type DocumentedRoute, type RouteDoc, type RouteInput } from '@cdp/runtime';
import { destinationBodySchema, destinationPatchSchema, destinationPreviewSchema } from '@cdp/schemas';

export const idParams = z.object({ id: z.string().max(100) });
export const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('deliveries to list, newest first'),
  status: z.enum(['pending', 'delivered', 'dead']).optional().describe('only deliveries in this state'),
});

const exampleBody = {
  name: 'Zalo OA: welcome new customers',
  url: 'https://hooks.example.vn/cdp',
  headers: { authorization: 'Bearer receiver-token' },
  secret: 'whsec_4f9a1c2b7d4e5f60718293a4',
  template:
    '{"phone": {{ profile.identities | where: "type", "phone" | map: "value" | first | json }}, "name": {{ profile.traits.name | json }}}',
  traits: ['name', 'city'],
  batch: 1,
  ratePerSecond: 10,
  status: 'active',
  triggers: [
    { kind: 'segment', segmentId: 'lifecycle-new', on: 'entered' },
    { kind: 'event', event: 'Ticket Opened', where: [{ property: 'type', equals: 'complaint' }] },
    {
      kind: 'followUp',
      event: 'Ticket Opened',
      where: [{ property: 'type', equals: 'complaint' }],
      after: { value: 4, unit: 'hours' },
      unless: { event: 'Ticket Replied', where: [] },
      matchOn: 'ticket_id',
    },
    { kind: 'anniversary', trait: 'birthday', daysBefore: 7 },
  ],
};
const { secret: _secret, ...shownExample } = exampleBody;
const exampleDestination = {
  id: 'dst_3f9a1c2b7d4e5f60',
  kind: 'webhook',
  ...shownExample,
  createdAt: '2025-03-01T12:00:00.000Z',
  updatedAt: '2025-03-01T12:00:00.000Z',
};

const destinationSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'A destination as stored; the signing secret and the values of its headers are never answered back.',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['webhook'] },
    url: { type: 'string' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'the header names sent with every request; each value shows as ******** (stored sealed, never answered back)',
    },
    template: { type: 'string', nullable: true },
    traits: { type: 'array', items: { type: 'string' }, nullable: true },
    batch: { type: 'integer' },
    ratePerSecond: { type: 'number' },
    status: { type: 'string', enum: ['active', 'paused'] },
    triggers: { type: 'array', items: { type: 'object', additionalProperties: true } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const invalid = errorReply('The destination is not valid: every problem with its path', [
  {
    code: 'INVALID_REQUEST',
    message: 'the destination is not valid: template: line 3, column 7: undefined filter: nofilter',
    errors: [{ path: 'template', message: 'line 3, column 7: undefined filter: nofilter' }],
  },
  {
    code: 'INVALID_REQUEST',
    message: 'the destination is not valid: url: 10.0.0.5 is a private address',
    errors: [{ path: 'url', message: '10.0.0.5 is a private address' }],
  },
]);
const notFound = errorReply('No destination has that id', [
  { code: 'NOT_FOUND', message: 'no destination dst_0000000000000000' },
]);
const invalidBody = { code: 'INVALID_REQUEST', lead: 'the destination is not valid' } as const;

const doc = <Input extends RouteInput>(route: Omit<RouteDoc<Input>, 'tags' | 'scope'>): DocumentedRoute<Input> =>
  documented({ ...route, tags: ['destinations'], scope: 'admin' });

const bodyDescription =
  'A webhook and its triggers. `template` is a LiquidJS template of the request body over the payload (`id`, `destinationId`, `trigger`, `profile`); unset, the payload itself is sent as JSON. `secret` signs every request (`X-CDP-Signature`); it is stored encrypted and never answered back. The URL must resolve to public addresses only (unless `CDP_DESTINATIONS_ALLOW` lets an address through).';

export const listDoc = doc({
  summary: 'List destinations',
  responses: {
    200: jsonReply(
      'The destinations',
      { type: 'object', properties: { destinations: { type: 'array', items: destinationSchema } } },
      { destinations: [exampleDestination] },
    ),
  },
});

export const createDoc = doc({
  summary: 'Create a destination',
  description: 'Saves a webhook destination; it fires for triggers that happen from now on.',
  validate: { body: destinationBodySchema },
  invalid: invalidBody,
  body: { description: bodyDescription, example: exampleBody },
  responses: { 201: jsonReply('The destination as saved', destinationSchema, exampleDestination), 400: invalid },
});

export const readDoc = doc({
  summary: 'Read a destination',
  validate: { params: idParams },
  responses: { 200: jsonReply('The destination', destinationSchema, exampleDestination), 404: notFound },
});

export const replaceDoc = doc({
  summary: 'Replace a destination',
  description: 'Replaces the whole definition, secret included. Deliveries already made keep their rendered bodies.',
  validate: { params: idParams, body: destinationBodySchema },
  invalid: invalidBody,
  body: { description: bodyDescription, example: exampleBody },
  responses: {
    200: jsonReply('The destination as saved', destinationSchema, exampleDestination),
    400: invalid,
    404: notFound,
  },
});

export const patchDoc = doc({
  summary: 'Change some fields of a destination',
  description:
    'The fields given replace the stored ones; the others, the secret and the header values among them (which cannot be read back), are kept. `template` or `traits` null removes it. Pausing is `{ "status": "paused" }`.',
  validate: { params: idParams, body: destinationPatchSchema },
  invalid: invalidBody,
  body: { description: 'Any fields of a destination', example: { status: 'paused' } },
  responses: {
    200: jsonReply('The destination as saved', destinationSchema, { ...exampleDestination, status: 'paused' }),
    400: invalid,
    404: notFound,
  },
});

export const deleteDoc = doc({
  summary: 'Delete a destination',
  description: 'It fires no more; deliveries still pending are not sent.',
  validate: { params: idParams },
  responses: { 204: { description: 'Deleted' }, 404: notFound },
});

const deliverySchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', description: 'the delivery id, sent as `Idempotency-Key` on every attempt' },
    status: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
    profileId: { type: 'string' },
    trigger: { type: 'object', additionalProperties: true },
    attempts: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    nextAttemptAt: {
      type: 'string',
      format: 'date-time',
      nullable: true,
      description: 'when a pending delivery is tried next',
    },
    lastStatus: {
      type: 'integer',
      nullable: true,
      description: "the receiver's last HTTP status; null when no answer came",
    },
    lastError: { type: 'string' },
    latencyMs: { type: 'integer', description: 'how long the last answer took' },
  },
};

export const deliveriesDoc = doc({
  summary: "A destination's deliveries",
  description: 'The latest deliveries, newest first: state, attempts, latency and the last error.',
  validate: { params: idParams, querystring: deliveriesQuery },
  responses: {
    200: jsonReply(
      'Deliveries',
      { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } },
      {
        deliveries: [
          {
            id: 'dlv_0c1d2e3f4a5b6c7d8e9f0a1b',
            status: 'delivered',
            profileId: 'prf_3f9a1c2b7d4e5f60718293a4',
            trigger: {
              kind: 'segment',
              segmentId: 'lifecycle-new',
              change: 'entered',
              at: '2025-03-01T12:05:00.000Z',
              version: 1740830700000,
            },
            attempts: 2,
            createdAt: '2025-03-01T12:05:01.000Z',
            updatedAt: '2025-03-01T12:05:03.000Z',
            nextAttemptAt: null,
            lastStatus: 200,
            lastError: '',
            latencyMs: 84,
          },
        ],
      },
    ),
    404: notFound,
  },
});

export const replayDoc = doc({
  summary: "Replay a destination's dead deliveries",
  description:
    'Every dead delivery becomes pending again, due now, with a fresh retry horizon and the same id and body.',
  validate: { params: idParams },
  responses: {
    200: jsonReply(
      'How many were re-queued',
      { type: 'object', properties: { replayed: { type: 'integer' } } },
      { replayed: 12 },
    ),
    404: notFound,
  },
});

export const testDoc = doc({
  summary: 'Send a sample delivery now',
  description:
    'Renders the template over a made-up customer, signs it and sends it at once (outside the queue, never retried), and answers with what the receiver said.',
  validate: { params: idParams },
  responses: {
    200: jsonReply(
      "The receiver's answer, or why none came",
      {
        type: 'object',
        properties: {
          ok: { type: 'boolean', description: 'the receiver answered 2xx' },
          status: { type: 'integer', nullable: true },
          latencyMs: { type: 'integer', nullable: true },
          body: { type: 'string', description: 'the start of the answer (at most 4 KiB)' },
          error: { type: 'string', nullable: true },
        },
      },
      { ok: true, status: 200, latencyMs: 84, body: 'ok', error: null },
    ),
    404: notFound,
  },
});

export const previewDoc = doc({
  summary: 'Preview a template over a real customer',
  description:
    "Renders a template (unset: the payload as JSON) over the payload a delivery would carry for one customer, addressed as the profile API addresses one (`user_id:ada`, `phone:+84912345678`), with a test trigger. Nothing is sent or stored: this is what the console's template editor shows.",
  validate: { body: destinationPreviewSchema },
  invalid: { code: 'INVALID_REQUEST', lead: 'the preview is not valid' },
  body: {
    description: 'The customer, and the template and traits of the destination being written',
    example: { profile: 'user_id:ada', template: '{"name": {{ profile.traits.name | json }}}', traits: ['name'] },
  },
  responses: {
    200: jsonReply(
      'The rendered body, its content type, and the payload it was rendered over',
      {
        type: 'object',
        properties: {
          profileId: { type: 'string' },
          body: { type: 'string', description: 'the request body a delivery would send' },
          contentType: { type: 'string', description: 'application/json when the body is JSON, else text/plain' },
          payload: { type: 'object', additionalProperties: true, description: 'what the template saw' },
        },
      },
      {
        profileId: 'prf_3f9a1c2b7d4e5f60718293a4',
        body: '{"name": "Ada"}',
        contentType: 'application/json',
        payload: { id: 'dlv_preview', trigger: { kind: 'test' }, profile: { traits: { name: 'Ada' } } },
      },
    ),
    400: errorReply('A malformed profile reference, or a template that does not parse or render', [
      {
        code: 'INVALID_REQUEST',
        message: 'the preview is not valid: template: line 1, column 12: undefined filter: nofilter',
        errors: [{ path: 'template', message: 'line 1, column 12: undefined filter: nofilter' }],
      },
    ]),
    404: errorReply('Nobody has that identifier', [{ code: 'NOT_FOUND', message: 'no profile has user_id nobody' }]),
  },
});
