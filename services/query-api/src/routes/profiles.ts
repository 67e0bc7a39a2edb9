// GET /v1/profiles/{type}:{value} (one customer's unified profile) and /events (the customer's timeline).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type ClickHouseClient } from '@cdp/runtime';
import { findProfileId, profileRefTypes, readProfile, type ProfileRefType } from '@cdp/profiles';
import type { SegmentStore } from '@cdp/segments';
import { decodeCursor, readTimeline } from '../timeline';
import { profileDoc, timelineDoc } from './profile-docs';

const maxPageSize = 1000;

/** The survivor profile a `{type}:{value}` reference names: a 400 for a malformed one, a 404 when nobody has it. */
export async function profileOfRef(clickhouse: ClickHouseClient, ref: string): Promise<string> {
  const colon = ref.indexOf(':');
  const type = ref.slice(0, colon);
  const value = ref.slice(colon + 1);
  if (colon < 1 || !value || !(profileRefTypes as readonly string[]).includes(type)) {
    throw new AppError('INVALID_REQUEST', `a profile is addressed as {type}:{value} with type one of ${profileRefTypes.join(', ')}`);
  }
  const profileId = await findProfileId(clickhouse, type as ProfileRefType, value);
  if (!profileId) throw new AppError('NOT_FOUND', `no profile has ${type} ${value}`);
  return profileId;
}

export function profileRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; store: SegmentStore }): void {
  const resolveRef = (request: FastifyRequest<{ Params: { ref: string } }>) => profileOfRef(deps.clickhouse, request.params.ref);

  app.get<{ Params: { ref: string } }>('/v1/profiles/:ref', profileDoc, async (request) => {
    const profileId = await resolveRef(request);
    // Membership of a segment deleted since its last evaluation is not shown: its members are about to exit it.
    const live = (await deps.store.list()).map((segment) => segment.id);
    return readProfile(deps.clickhouse, profileId, live);
  });

  app.get<{ Params: { ref: string }; Querystring: { limit?: string; cursor?: string } }>('/v1/profiles/:ref/events', timelineDoc, async (request) => {
    const { limit: limitText = '50', cursor: cursorText } = request.query;
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
      throw new AppError('INVALID_REQUEST', `limit must be a whole number from 1 to ${maxPageSize}`);
    }
    const cursor = cursorText === undefined ? null : decodeCursor(cursorText);
    if (cursorText !== undefined && cursor === null) throw new AppError('INVALID_REQUEST', 'cursor is not one this API handed out');
    return readTimeline(deps.clickhouse, await resolveRef(request), limit, cursor);
  });
}
