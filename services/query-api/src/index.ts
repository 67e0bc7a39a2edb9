// The query API service: profiles and analytics today; segments and audiences build on it.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { createAudit, createErasures, openSuppressions } from '@cdp/privacy';
import { createSegmentStore } from '@cdp/segments';
import {
  createHttpServer,
  limitConcurrency,
  limitQueries,
  loadConfig,
  requireScopes,
  type ClickHouse,
  type Config,
  type KeyStore,
  type Metrics,
} from '@cdp/runtime';
import { narrowPreview, narrowRead } from './narrowing';
import { createAnswerCache } from './answer-cache';
import { analyticsRoutes } from './routes/analytics';
import { consoleRoutes } from './routes/console';
import { keyRoutes } from './routes/keys';
import { privacyRoutes } from './routes/privacy';
import { profileRoutes } from './routes/profiles';
import { segmentRoutes } from './routes/segments';

export type { Profile, ProfileStats } from '@cdp/profiles';

export interface QueryApiDeps {
  clickhouse: ClickHouse;
  keys: KeyStore;
  metrics: Metrics;
  logger: Logger;
  /** Limits on reads and, tighter, on previews; unset: the defaults of the CDP_QUERY_* and CDP_PREVIEW_* variables. */
  limits?: Config['queryLimits'];
  /** How long an analytics answer is shared; unset: the default of CDP_ANALYTICS_CACHE_SECONDS. */
  analyticsCacheSeconds?: number;
}

/** Routes that evaluate a rule the caller writes on the spot: their own, tighter limits. */
const previewRoutes = new Set(['/v1/segments/preview']);

export function queryApiPlugin(deps: QueryApiDeps): FastifyPluginAsync {
  return async (app) => {
    // Every /v1 route names its scope in its documentation; one hook checks the key against it.
    requireScopes(app, deps.keys);
    const limits = deps.limits ?? loadConfig({}).queryLimits;
    const isPreview = (url: string | undefined) => url !== undefined && previewRoutes.has(url);
    limitConcurrency(app, {
      concurrencyPerKey: limits.reads.concurrencyPerKey,
      applies: (request) => !isPreview(request.routeOptions.url),
      what: 'requests',
    });
    limitConcurrency(app, {
      concurrencyPerKey: limits.previews.concurrencyPerKey,
      applies: (request) => isPreview(request.routeOptions.url),
      what: 'previews',
    });
    // Reads carry the limits; the privacy routes' erasures run on as jobs, so they keep the plain client.
    const reads = limitQueries(deps.clickhouse.client, limits.reads, narrowRead);
    const previews = limitQueries(deps.clickhouse.client, limits.previews, narrowPreview);
    profileRoutes(app, { clickhouse: reads, store: createSegmentStore(reads) });
    segmentRoutes(app, { clickhouse: reads, preview: previews });
    analyticsRoutes(app, {
      clickhouse: reads,
      answers: createAnswerCache(deps.analyticsCacheSeconds ?? loadConfig({}).analyticsCacheSeconds),
    });
    keyRoutes(app, { keys: deps.keys });
    const suppressions = await openSuppressions(deps.clickhouse.client);
    const erasures = createErasures({ client: deps.clickhouse.client, suppressions, logger: deps.logger });
    privacyRoutes(app, {
      clickhouse: deps.clickhouse.client,
      erasures,
      suppressions,
      audit: createAudit(deps.clickhouse.client),
    });
    // An erasure under way finishes before the server closes, so none is left half done by a graceful stop.
    app.addHook('onClose', () => erasures.idle());
    await consoleRoutes(app);
  };
}

export interface QueryApiService {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Runs the query API alone on its own port (the distributed runtime). */
export async function start(deps: QueryApiDeps & { host: string; port: number }): Promise<QueryApiService> {
  const app = await createHttpServer({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: { clickhouse: () => deps.clickhouse.ready() },
  });
  await app.register(queryApiPlugin(deps));
  const url = await app.listen({ host: deps.host, port: deps.port });
  return { app, url, close: () => app.close() };
}
