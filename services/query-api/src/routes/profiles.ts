// GET /v1/profiles/{type}:{value} (one customer's unified profile) and /events (the customer's timeline).
import type { FastifyInstance } from 'fastify';
import { AppError, invalidInput, type ClickHouseClient, type ZodTypeProvider } from '@cdp/runtime';
import { findProfileId, parseProfileRef, readProfile, refFormat } from '@cdp/profiles';
import type { SegmentStore } from '@cdp/segments';
import { readTimeline } from '../timeline';
import { profileDoc, timelineDoc } from './profile-docs';

/** The survivor profile a `{type}:{value}` reference names: a 400 for a malformed one, a 404 when nobody has it. */
export async function profileOfRef(clickhouse: ClickHouseClient, ref: string): Promise<string> {
  // The routes' params schema refuses a malformed reference first; this keeps the function safe on its own.
  const parsed = parseProfileRef(ref);
  if (!parsed) throw invalidInput([{ path: 'ref', message: refFormat }], { part: 'params' });
  const profileId = await findProfileId(clickhouse, parsed.type, parsed.value);
  if (!profileId) throw new AppError('NOT_FOUND', `no profile has ${parsed.type} ${parsed.value}`);
  return profileId;
}

export function profileRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; store: SegmentStore }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/v1/profiles/:ref', profileDoc, async (request) => {
    const profileId = await profileOfRef(deps.clickhouse, request.params.ref);
    // Membership of a segment deleted since its last evaluation is not shown: its members are about to exit it.
    const live = (await deps.store.list()).map((segment) => segment.id);
    return readProfile(deps.clickhouse, profileId, live);
  });

  api.get('/v1/profiles/:ref/events', timelineDoc, async (request) => {
    const { limit, cursor } = request.query;
    return readTimeline(
      deps.clickhouse,
      await profileOfRef(deps.clickhouse, request.params.ref),
      limit,
      cursor ?? null,
    );
  });
}
