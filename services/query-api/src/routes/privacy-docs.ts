// OpenAPI documentation of erasure, suppression and the privacy audit log.
import { z } from 'zod';
import { documented, errorReply, jsonReply } from '@cdp/runtime';
import { identifierTypes, normaliseEmail, normalisePhone, type Identifier } from '@cdp/schemas';
import { refFormat } from '@cdp/profiles';
import { pageLimit, refParams } from './profile-docs';

const normalise = (type: Identifier['type'], value: string) =>
  type === 'email' ? normaliseEmail(value) : type === 'phone' ? normalisePhone(value) : value;

/** An identifier as the resolver stores it: emails and phones normalised, a 400 at `value` when one cannot be. */
export const identifierBody = z
  .object({ type: z.enum(identifierTypes), value: z.string().min(1).max(1000) })
  .transform(({ type, value }, context): Identifier => {
    const stored = normalise(type, value);
    if (stored !== null) return { type, value: stored };
    context.addIssue({
      code: 'custom',
      path: ['value'],
      message: `not a valid ${type === 'phone' ? 'phone number with its country code' : type}`,
    });
    return z.NEVER;
  });

const auditEntrySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    action: { type: 'string', enum: ['erasure', 'suppress', 'unsuppress'] },
    keyPrefix: { type: 'string', description: 'The prefix of the key that asked' },
    state: { type: 'string', enum: ['running', 'done', 'failed'] },
    counts: {
      type: 'object',
      additionalProperties: { type: 'integer' },
      description:
        '`profiles` and `identifiers` erased or suppressed; for an erasure, `rows.<table>` deleted (or masked) from each table',
    },
    error: { type: 'string', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const exampleErasure = {
  id: 'era_5b1f0c9e2d7a4c3b8e6f1a20',
  action: 'erasure',
  keyPrefix: 'ak_Zm9yZ2V',
  state: 'done',
  counts: { profiles: 2, identifiers: 4, 'rows.events': 37, 'rows.identities': 4, 'rows.profile_merges': 1 },
  error: null,
  createdAt: '2025-03-01T08:00:00.000Z',
  updatedAt: '2025-03-01T08:00:06.512Z',
};
const invalidIdentifier = errorReply('The identifier is not valid', [
  {
    code: 'INVALID_REQUEST',
    message: 'value: not a valid email',
    errors: [{ path: 'value', message: 'not a valid email' }],
  },
]);

export const eraseDoc = documented({
  summary: 'Erase a customer',
  description:
    'Erases the profile and every profile merged into it from every table that holds them, in the background, and suppresses every identifier it had: later events carrying any of them are dropped before they reach a profile (counted in `cdp_resolver_events_suppressed_total`), also when the event log is replayed. Answers at once with the erasure; `GET /v1/erasures/{id}` follows it to `done`, within seconds.',
  tags: ['privacy'],
  scope: 'admin',
  validate: { params: refParams },
  responses: {
    202: jsonReply('The erasure, running', auditEntrySchema, {
      ...exampleErasure,
      state: 'running',
      counts: { profiles: 2, identifiers: 4 },
    }),
    400: errorReply('A malformed profile reference', [
      { code: 'INVALID_REQUEST', message: `ref: ${refFormat}`, errors: [{ path: 'ref', message: refFormat }] },
    ]),
    404: errorReply('No profile has that identifier (or it was erased already)', [
      { code: 'NOT_FOUND', message: 'no profile has email ada@example.com' },
    ]),
  },
});

export const erasureDoc = documented({
  summary: 'An erasure',
  description: 'Its state and what it erased, per table; no personal data.',
  tags: ['privacy'],
  scope: 'admin',
  validate: { params: z.object({ id: z.string() }) },
  responses: {
    200: jsonReply('The erasure', auditEntrySchema, exampleErasure),
    404: errorReply('No erasure has that id', [{ code: 'NOT_FOUND', message: 'no erasure era_0000' }]),
  },
});

const suppressionSchema = {
  type: 'object',
  properties: { type: { type: 'string' }, suppressed: { type: 'boolean' }, created: { type: 'boolean' } },
};

export const suppressDoc = documented({
  summary: 'Suppress an identifier',
  description:
    'Suppresses without deleting: events carrying the identifier are dropped from now on (resolvers see it within about a second). Stored as a salted hash, never in plain text. 201 when it is new, 200 when it was suppressed already.',
  tags: ['privacy'],
  scope: 'admin',
  validate: { body: identifierBody },
  body: { example: { type: 'email', value: 'ada@example.com' } },
  responses: {
    200: jsonReply('Suppressed already: nothing changed', suppressionSchema, {
      type: 'email',
      suppressed: true,
      created: false,
    }),
    201: jsonReply('Suppressed', suppressionSchema, { type: 'email', suppressed: true, created: true }),
    400: invalidIdentifier,
  },
});

export const liftDoc = documented({
  summary: 'Lift a suppression',
  description:
    "Lifts a suppression made with `POST /v1/suppressions`; an erased customer's identifiers stay suppressed.",
  tags: ['privacy'],
  scope: 'admin',
  validate: { params: refParams },
  responses: {
    204: { description: 'Lifted' },
    400: invalidIdentifier,
    404: errorReply('Not suppressed on request', [
      {
        code: 'NOT_FOUND',
        message: "no suppression made on request for this email; an erased customer's stay suppressed",
      },
    ]),
  },
});

export const auditDoc = documented({
  summary: 'The privacy audit log',
  description:
    'Erasures, suppressions and liftings, newest first: which key, when, the state and the counts; no personal data.',
  tags: ['privacy'],
  scope: 'admin',
  validate: { querystring: z.object({ limit: pageLimit(1000, 100).describe('Entries to list') }) },
  responses: {
    200: jsonReply(
      'The newest entries',
      { type: 'object', properties: { entries: { type: 'array', items: auditEntrySchema } } },
      { entries: [exampleErasure] },
    ),
    400: errorReply('A bad limit', [
      {
        code: 'INVALID_REQUEST',
        message: 'limit: must be a whole number from 1 to 1000',
        errors: [{ path: 'limit', message: 'must be a whole number from 1 to 1000' }],
      },
    ]),
  },
});
