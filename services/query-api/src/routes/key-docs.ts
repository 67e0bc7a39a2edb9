// OpenAPI documentation of the key endpoints: what an admin sees of a key, and how one is made.
import { z } from 'zod';
import { documented, errorReply, jsonReply, scopes, type DocumentedRoute } from '@cdp/runtime';

/** What an admin asks for: who holds the key, its scopes, and optionally when it expires. */
export const newKeyBody = z.object({
  source: z.string().trim().min(1).max(200).describe('Who holds the key (a site, a tool, a team)'),
  scopes: z.array(z.enum(scopes)).min(1).max(scopes.length),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .refine((time) => time === undefined || Date.parse(time) > Date.now(), 'must be in the future')
    .describe('With an offset, e.g. `2025-06-30T23:59:59+07:00`; must be in the future'),
});

const keySchema = {
  type: 'object',
  properties: {
    prefix: { type: 'string', description: 'The first 10 characters of the key: how it is listed and revoked' },
    source: { type: 'string', description: 'Who holds the key (a site, a tool, a team)' },
    scopes: { type: 'array', items: { type: 'string', enum: [...scopes] } },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: {
      type: 'string',
      format: 'date-time',
      nullable: true,
      description: 'After this the key is refused; null for never',
    },
    revoked: { type: 'boolean' },
  },
};
const exampleKey = {
  prefix: 'rk_Q2hhbmd',
  source: 'marketing-dashboard',
  scopes: ['analytics'],
  createdAt: '2025-03-01T08:00:00.000Z',
  expiresAt: '2025-06-30T17:00:00.000Z',
  revoked: false,
};

export const listKeysDoc: DocumentedRoute = documented({
  summary: 'List keys',
  description:
    'Every key, revoked ones included, by prefix; the keys themselves are stored only as hashes and never shown again.',
  tags: ['keys'],
  scope: 'admin',
  responses: {
    200: jsonReply(
      'The keys',
      { type: 'object', properties: { keys: { type: 'array', items: keySchema } } },
      { keys: [exampleKey] },
    ),
  },
});

export const createKeyDoc = documented({
  summary: 'Create a key',
  description: `A new random key with the scopes named (${scopes.join(', ')}), optionally expiring. The answer is the only time the key is shown in plain text.`,
  tags: ['keys'],
  scope: 'admin',
  validate: { body: newKeyBody },
  body: {
    example: { source: 'marketing-dashboard', scopes: ['analytics'], expiresAt: '2025-06-30T23:59:59+07:00' },
  },
  responses: {
    201: jsonReply(
      'The key, in plain text this once',
      { ...keySchema, properties: { key: { type: 'string' }, ...keySchema.properties } },
      { key: 'rk_Q2hhbmdlIG1lIGlmIHlvdSBjYW4', ...exampleKey },
    ),
    400: errorReply('The body is not valid: every problem with its path', [
      {
        code: 'INVALID_REQUEST',
        message:
          'scopes.0: Invalid option: expected one of "write"|"analytics"|"profiles"|"audiences"|"segments:write"|"admin"',
        errors: [{ path: 'scopes.0', message: 'Invalid option' }],
      },
    ]),
  },
});

export const revokeKeyDoc = documented({
  summary: 'Revoke a key',
  description:
    'Revokes every active key listed with this prefix; it is refused at once by this server and within seconds by the others.',
  tags: ['keys'],
  scope: 'admin',
  validate: { params: z.object({ prefix: z.string().describe('The prefix `GET /v1/keys` lists') }) },
  responses: {
    200: jsonReply(
      'How many keys were revoked',
      { type: 'object', properties: { revoked: { type: 'integer' } } },
      { revoked: 1 },
    ),
    404: errorReply('No active key has that prefix', [
      { code: 'NOT_FOUND', message: 'no active key starts with rk_nothing' },
    ]),
  },
});
