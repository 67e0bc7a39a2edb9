// Query API input is validated by each route's zod schemas before its handler: bad input is a 400 that never reaches the store.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLog, Erasures, SuppressionStore } from '@cdp/privacy';
import {
  createHttpServer,
  createLogger,
  createMetrics,
  documented,
  jsonReply,
  type ClickHouseClient,
  type KeyStore,
  type ZodTypeProvider,
} from '@cdp/runtime';
import { openTicketsQuery, retentionQuery } from '@cdp/schemas';
import type { AnswerCache } from '../answer-cache';
import { analyticsRoutes } from './analytics';
import { keyRoutes } from './keys';
import { privacyRoutes } from './privacy';
import { timelineQuery } from './profile-docs';
import { profileRoutes } from './profiles';
import { identifierBody } from './privacy-docs';
import { membersQuery } from './segment-docs';
import { segmentRoutes } from './segments';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A dependency no request of these tests may reach: any use of it is a 500 naming what was touched. */
const untouchable = <T>(name: string): T =>
  new Proxy(
    {},
    {
      get: (_target, property) => {
        throw new Error(`${name}.${String(property)} was reached`);
      },
    },
  ) as T;

/** The shared server with every query API route group over dependencies that must stay untouched. */
async function queryServer(): Promise<FastifyInstance> {
  const app = await createHttpServer({
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    readiness: {},
  });
  apps.push(app);
  const clickhouse = untouchable<ClickHouseClient>('clickhouse');
  await app.register(async (plugin) => {
    profileRoutes(plugin, { clickhouse, store: untouchable('segmentStore') });
    segmentRoutes(plugin, { clickhouse, preview: clickhouse });
    analyticsRoutes(plugin, { clickhouse, answers: untouchable<AnswerCache>('answers') });
    keyRoutes(plugin, { keys: untouchable<KeyStore>('keys') });
    privacyRoutes(plugin, {
      clickhouse,
      erasures: untouchable<Erasures>('erasures'),
      suppressions: untouchable<SuppressionStore>('suppressions'),
      audit: untouchable<AuditLog>('audit'),
    });
  });
  return app;
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  paths: string[];
}

async function refusal(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<Refusal> {
  const response = await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const body = response.json<{ code: string; message: string; errors?: Array<{ path: string }> }>();
  return {
    status: response.statusCode,
    code: body.code,
    message: body.message,
    paths: (body.errors ?? []).map((error) => error.path),
  };
}

const window = 'from=2025-01-01&to=2025-02-01';

describe('segment bodies', () => {
  it('answer 400 INVALID_SEGMENT with every problem at its exact path, before the store', async () => {
    const app = await queryServer();
    const wrong = await refusal(app, 'POST', '/v1/segments', {
      name: 'x',
      rule: {
        and: [
          { trait: 'plan', equals: 'pro' },
          { stat: 'orders', gte: 'two' },
        ],
      },
    });
    expect(wrong).toEqual({
      status: 400,
      code: 'INVALID_SEGMENT',
      message: 'the segment is not valid: rule.and.1.gte: Invalid input: expected number, received string',
      paths: ['rule.and.1.gte'],
    });

    const several = await refusal(app, 'POST', '/v1/segments', {
      rule: {
        or: [
          { stat: 'bogus', gt: 1 },
          { event: 'x', atLeast: 3, atMost: 1 },
        ],
      },
      extra: 1,
    });
    expect(several.paths.sort()).toEqual(['', 'name', 'rule.or.0.stat', 'rule.or.1.atMost']);
    expect(several.message).toContain('(body): Unrecognized key: "extra"');

    expect(
      await refusal(app, 'PUT', '/v1/segments/seg_1', { name: '', rule: { stat: 'orders', gt: 1 } }),
    ).toMatchObject({ status: 400, code: 'INVALID_SEGMENT', paths: ['name'] });
    expect(await refusal(app, 'POST', '/v1/segments/preview', { rule: { not: { trait: 'a' } } })).toMatchObject({
      status: 400,
      code: 'INVALID_SEGMENT',
      paths: ['rule.not'],
    });
    expect(await refusal(app, 'POST', '/v1/segments')).toMatchObject({
      status: 400,
      code: 'INVALID_SEGMENT',
      paths: [''],
    });
  });
});

describe('query parameters', () => {
  it.each([
    ['/v1/analytics/kpis?from=2025-01-01', ['to']],
    [`/v1/analytics/kpis?${window}&tz=Mars/Olympus`, ['tz']],
    ['/v1/analytics/retention?from=2025-02-01&to=2025-01-01', ['to']],
    [`/v1/analytics/retention?${window}&periods=61&cohort=first_order`, ['cohort', 'periods']],
    [`/v1/analytics/kpis/series?${window}&period=hour`, ['period']],
    ['/v1/analytics/open-tickets?slaHours=soon&limit=501', ['slaHours', 'limit']],
    ['/v1/segments/seg_1/members?limit=0&subscribed=fax', ['limit', 'subscribed']],
    ['/v1/profiles/user_id:ada/events?limit=1001&cursor=nope', ['limit', 'cursor']],
    ['/v1/audit?limit=0', ['limit']],
  ])('GET %s is a 400 INVALID_REQUEST naming %j', async (url, paths) => {
    const answer = await refusal(await queryServer(), 'GET', url);
    expect(answer).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    expect(answer.paths.sort()).toEqual([...paths].sort());
    for (const path of paths) expect(answer.message).toContain(`${path}: `);
  });

  it('say what a page size must be, whatever part of the rule it breaks', async () => {
    const app = await queryServer();
    for (const limit of ['0', '1.5', 'ten', '1001']) {
      expect(await refusal(app, 'GET', `/v1/profiles/user_id:ada/events?limit=${limit}`)).toEqual({
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'limit: must be a whole number from 1 to 1000',
        paths: ['limit'],
      });
    }
  });
});

describe('path parameters and admin bodies', () => {
  it('refuse a malformed profile reference at `ref`', async () => {
    const app = await queryServer();
    for (const url of ['/v1/profiles/shoe_size:42', '/v1/profiles/email:', '/v1/profiles/ada/events']) {
      expect(await refusal(app, 'GET', url)).toMatchObject({ status: 400, code: 'INVALID_REQUEST', paths: ['ref'] });
    }
    expect(await refusal(app, 'DELETE', '/v1/profiles/nobody')).toMatchObject({ status: 400, paths: ['ref'] });
  });

  it('refuse a key with an unknown scope at scopes.0, and one that expired already', async () => {
    const app = await queryServer();
    expect(await refusal(app, 'POST', '/v1/keys', { source: 'x', scopes: ['everything'] })).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      paths: ['scopes.0'],
    });
    expect(
      await refusal(app, 'POST', '/v1/keys', { source: 'x', scopes: ['analytics'], expiresAt: '2020-01-01T00:00:00Z' }),
    ).toMatchObject({ status: 400, paths: ['expiresAt'] });
    expect(await refusal(app, 'POST', '/v1/keys')).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      message: '(body): Invalid input: expected object, received null',
      paths: [''],
    });
  });

  it('refuse an identifier that cannot be normalised, in a body or a path, with the same 400', async () => {
    const app = await queryServer();
    expect(await refusal(app, 'POST', '/v1/suppressions', { type: 'email', value: 'not an email' })).toEqual({
      status: 400,
      code: 'INVALID_REQUEST',
      message: 'value: not a valid email',
      paths: ['value'],
    });
    expect(await refusal(app, 'POST', '/v1/suppressions', { type: 'phone', value: '12' })).toMatchObject({
      message: 'value: not a valid phone number with its country code',
      paths: ['value'],
    });
    expect(await refusal(app, 'POST', '/v1/suppressions', { type: 'fax', value: '12' })).toMatchObject({
      status: 400,
      paths: ['type'],
    });
    expect(await refusal(app, 'DELETE', '/v1/suppressions/email:nobody')).toEqual({
      status: 400,
      code: 'INVALID_REQUEST',
      message: 'value: not a valid email',
      paths: ['value'],
    });
  });
});

describe('a valid request', () => {
  /** Routes registered as the query API's are, answering with what their handler received. */
  async function echoServer(): Promise<FastifyInstance> {
    const app = await createHttpServer({
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(),
      readiness: {},
    });
    apps.push(app);
    await app.register(async (plugin) => {
      const api = plugin.withTypeProvider<ZodTypeProvider>();
      const echo = (route: string) => ({
        summary: route,
        tags: ['operations'],
        responses: { 200: jsonReply('What the handler received', { type: 'object' }, {}) },
      });
      api.get(
        '/members',
        documented({ ...echo('members'), validate: { querystring: membersQuery } }),
        async (request) => ({ query: request.query, limitType: typeof request.query.limit }),
      );
      api.get(
        '/open-tickets',
        documented({ ...echo('open tickets'), validate: { querystring: openTicketsQuery } }),
        async (request) => request.query,
      );
      api.get(
        '/retention',
        documented({ ...echo('retention'), validate: { querystring: retentionQuery } }),
        async (request) => request.query,
      );
      api.get(
        '/timeline',
        documented({ ...echo('timeline'), validate: { querystring: timelineQuery } }),
        async (request) => request.query,
      );
      api.post(
        '/suppress',
        documented({ ...echo('suppress'), validate: { body: identifierBody } }),
        async (request) => request.body,
      );
    });
    return app;
  }

  it('reaches its handler parsed: numbers coerced, defaults applied, lists split', async () => {
    const app = await echoServer();
    expect((await app.inject({ method: 'GET', url: '/members?limit=5&traits=plan,%20city,plan' })).json()).toEqual({
      query: { limit: 5, traits: ['plan', 'city'] },
      limitType: 'number',
    });
    expect((await app.inject({ method: 'GET', url: '/members' })).json()).toEqual({
      query: { limit: 100, traits: [] },
      limitType: 'number',
    });
    expect((await app.inject({ method: 'GET', url: '/open-tickets?slaHours=4.5' })).json()).toEqual({
      slaHours: 4.5,
      limit: 50,
    });
  });

  it('reaches its handler transformed: the window as instants, the cursor decoded, the identifier normalised', async () => {
    const app = await echoServer();
    const retention = (
      await app.inject({ method: 'GET', url: '/retention?from=2025-01-06&to=2025-01-13&tz=Asia/Ho_Chi_Minh&periods=4' })
    ).json();
    // Midnight in Ho Chi Minh City (UTC+7) is 17:00 UTC the day before.
    expect(retention).toMatchObject({
      periods: 4,
      cohort: 'first_seen',
      period: 'week',
      fromMs: Date.UTC(2025, 0, 5, 17),
      toMs: Date.UTC(2025, 0, 12, 17),
    });
    const cursor = Buffer.from(JSON.stringify(['2025-03-01 12:00:00.000', 'm1'])).toString('base64url');
    expect((await app.inject({ method: 'GET', url: `/timeline?cursor=${cursor}` })).json()).toEqual({
      limit: 50,
      cursor: { timestamp: '2025-03-01 12:00:00.000', messageId: 'm1' },
    });
    const suppressed = await app.inject({
      method: 'POST',
      url: '/suppress',
      payload: { type: 'email', value: ' Ada@Example.COM ' },
    });
    expect(suppressed.json()).toEqual({ type: 'email', value: 'ada@example.com' });
  });

  it('is documented from the same schema it is validated with', async () => {
    const document = (await (await echoServer()).inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, { get: { parameters: Array<{ name: string; schema: unknown }> } }>;
    }>();
    const limit = document.paths['/members']?.get.parameters.find((parameter) => parameter.name === 'limit');
    expect(limit?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 1000, default: 100 });
  });
});
