// /v1/keys: an admin lists, creates and revokes API keys. A key is shown in plain text once, when it is created.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, fromClickHouseTime, scopes, type KeyInfo, type KeyStore } from '@cdp/runtime';
import { createKeyDoc, listKeysDoc, revokeKeyDoc } from './key-docs';

const newKeySchema = z.object({
  source: z.string().trim().min(1).max(200),
  scopes: z.array(z.enum(scopes)).min(1).max(scopes.length),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .refine((time) => time === undefined || Date.parse(time) > Date.now(), 'must be in the future'),
});

const iso = (time: string) => new Date(fromClickHouseTime(time)).toISOString();
/** A key as the API shows it: never the key itself, times in ISO 8601. */
const shown = (info: KeyInfo) => ({ ...info, createdAt: iso(info.createdAt), expiresAt: info.expiresAt === null ? null : iso(info.expiresAt) });

export function keyRoutes(app: FastifyInstance, deps: { keys: KeyStore }): void {
  app.get('/v1/keys', listKeysDoc, async () => ({ keys: (await deps.keys.list()).map(shown) }));

  app.post('/v1/keys', createKeyDoc, async (request, reply) => {
    const parsed = newKeySchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
      throw new AppError('INVALID_REQUEST', errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; '), errors);
    }
    const { source, scopes: granted, expiresAt } = parsed.data;
    const unique = [...new Set(granted)];
    const key = await deps.keys.create(expiresAt === undefined ? { source, scopes: unique } : { source, scopes: unique, expiresAt: Date.parse(expiresAt) });
    const created = (await deps.keys.list()).find((info) => info.prefix === key.slice(0, 10) && !info.revoked);
    return reply.status(201).send({ key, ...(created ? shown(created) : {}) });
  });

  app.delete<{ Params: { prefix: string } }>('/v1/keys/:prefix', revokeKeyDoc, async (request) => {
    const revoked = await deps.keys.revoke(request.params.prefix);
    if (revoked === 0) throw new AppError('NOT_FOUND', `no active key starts with ${request.params.prefix}`);
    return { revoked };
  });
}
