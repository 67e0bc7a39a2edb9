// GET /v1/profiles/{type}:{value}: one customer's unified profile.
import type { FastifyInstance } from 'fastify';
import { AppError, type ClickHouseClient, type KeyStore } from '@cdp/runtime';
import { requireReadKey } from '../auth';
import { findProfileId, identifierTypes, readProfile, type IdentifierType } from '../profiles';

export function profileRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; keys: KeyStore }): void {
  app.get<{ Params: { ref: string } }>('/v1/profiles/:ref', async (request) => {
    await requireReadKey(deps.keys, request);
    const { ref } = request.params;
    const colon = ref.indexOf(':');
    const type = ref.slice(0, colon);
    const value = ref.slice(colon + 1);
    if (colon < 1 || !value || !(identifierTypes as readonly string[]).includes(type)) {
      throw new AppError('INVALID_REQUEST', `a profile is addressed as {type}:{value} with type one of ${identifierTypes.join(', ')}`);
    }
    const profileId = await findProfileId(deps.clickhouse, type as IdentifierType, value);
    if (!profileId) throw new AppError('NOT_FOUND', `no profile has ${type} ${value}`);
    return readProfile(deps.clickhouse, profileId);
  });
}
