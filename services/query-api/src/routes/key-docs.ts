// OpenAPI documentation of the key endpoints: what an admin sees of a key, and how one is made.
import { documented, errorReply, jsonReply, scopes, type DocumentedRoute } from '@cdp/runtime';

const keySchema = {
  type: 'object',
  properties: {
    prefix: { type: 'string', description: 'The first 10 characters of the key: how it is listed and revoked' },
    source: { type: 'string', description: 'Who holds the key (a site, a tool, a team)' },
    scopes: { type: 'array', items: { type: 'string', enum: [...scopes] } },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', nullable: true, description: 'After this the key is refused; null for never' },
    revoked: { type: 'boolean' },
  },
};
const exampleKey = { prefix: 'rk_Q2hhbmd', source: 'marketing-dashboard', scopes: ['analytics'], createdAt: '2025-03-01T08:00:00.000Z', expiresAt: '2025-06-30T17:00:00.000Z', revoked: false };

export const listKeysDoc: DocumentedRoute = documented({
  summary: 'List keys',
  description: 'Every key, revoked ones included, by prefix; the keys themselves are stored only as hashes and never shown again.',
  tags: ['keys'],
  scope: 'admin',
  responses: { 200: jsonReply('The keys', { type: 'object', properties: { keys: { type: 'array', items: keySchema } } }, { keys: [exampleKey] }) },
});

export const createKeyDoc: DocumentedRoute = documented({
  summary: 'Create a key',
  description: `A new random key with the scopes named (${scopes.join(', ')}), optionally expiring. The answer is the only time the key is shown in plain text.`,
  tags: ['keys'],
  scope: 'admin',
  body: {
    schema: {
      type: 'object',
      required: ['source', 'scopes'],
      additionalProperties: false,
      properties: {
        source: { type: 'string', minLength: 1, maxLength: 200 },
        scopes: { type: 'array', minItems: 1, items: { type: 'string', enum: [...scopes] } },
        expiresAt: { type: 'string', format: 'date-time', description: 'With an offset, e.g. `2025-06-30T23:59:59+07:00`; must be in the future' },
      },
    },
    example: { source: 'marketing-dashboard', scopes: ['analytics'], expiresAt: '2025-06-30T23:59:59+07:00' },
  },
  responses: {
    201: jsonReply('The key, in plain text this once', { ...keySchema, properties: { key: { type: 'string' }, ...keySchema.properties } }, { key: 'rk_Q2hhbmdlIG1lIGlmIHlvdSBjYW4', ...exampleKey }),
    400: errorReply('The body is not valid: every problem with its path', [
      { code: 'INVALID_REQUEST', message: 'scopes.0: Invalid option: expected one of "write"|"analytics"|"profiles"|"audiences"|"segments:write"|"admin"', errors: [{ path: 'scopes.0', message: 'Invalid option' }] },
    ]),
  },
});

export const revokeKeyDoc: DocumentedRoute = documented({
  summary: 'Revoke a key',
  description: 'Revokes every active key listed with this prefix; it is refused at once by this server and within seconds by the others.',
  tags: ['keys'],
  scope: 'admin',
  params: { type: 'object', required: ['prefix'], properties: { prefix: { type: 'string', description: 'The prefix `GET /v1/keys` lists' } } },
  responses: {
    200: jsonReply('How many keys were revoked', { type: 'object', properties: { revoked: { type: 'integer' } } }, { revoked: 1 }),
    404: errorReply('No active key has that prefix', [{ code: 'NOT_FOUND', message: 'no active key starts with rk_nothing' }]),
  },
});
