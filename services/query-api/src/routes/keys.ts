// /v1/keys: an admin lists, creates and revokes API keys. A key is shown in plain text once, when it is created.
import type { FastifyInstance } from 'fastify';
import { AppError, fromClickHouseTime, type KeyInfo, type KeyStore, type ZodTypeProvider } from '@cdp/runtime';
import { createKeyDoc, listKeysDoc, revokeKeyDoc } from './key-docs';

const iso = (time: string) => new Date(fromClickHouseTime(time)).toISOString();
/** A key as the API shows it: never the key itself, times in ISO 8601. */
const shown = (info: KeyInfo) => ({
  ...info,
  createdAt: iso(info.createdAt),
  expiresAt: info.expiresAt === null ? null : iso(info.expiresAt),
});

export function keyRoutes(app: FastifyInstance, deps: { keys: KeyStore }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  app.get('/v1/keys', listKeysDoc, async () => ({ keys: (await deps.keys.list()).map(shown) }));

  api.post('/v1/keys', createKeyDoc, async (request, reply) => {
    const { source, scopes: granted, expiresAt } = request.body;
    const unique = [...new Set(granted)];
    const key = await deps.keys.create(
      expiresAt === undefined
        ? { source, scopes: unique }
        : { source, scopes: unique, expiresAt: Date.parse(expiresAt) },
    );
    const created = (await deps.keys.list()).find((info) => info.prefix === key.slice(0, 10) && !info.revoked);
    return reply.status(201).send({ key, ...(created ? shown(created) : {}) });
  });

  api.delete('/v1/keys/:prefix', revokeKeyDoc, async (request) => {
    const revoked = await deps.keys.revoke(request.params.prefix);
    if (revoked === 0) throw new AppError('NOT_FOUND', `no active key starts with ${request.params.prefix}`);
    return { revoked };
  });
}
