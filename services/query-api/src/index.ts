// The query API service: profiles and analytics today; segments and audiences build on it.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { createHttpServer, type ClickHouse, type KeyStore, type Metrics } from '@cdp/runtime';
import { analyticsRoutes } from './routes/analytics';
import { consoleRoutes } from './routes/console';
import { profileRoutes } from './routes/profiles';
import { segmentRoutes } from './routes/segments';

export type { Profile, ProfileStats } from './profiles';

export interface QueryApiDeps {
  clickhouse: ClickHouse;
  keys: KeyStore;
  metrics: Metrics;
  logger: Logger;
}

export function queryApiPlugin(deps: QueryApiDeps): FastifyPluginAsync {
  return async (app) => {
    profileRoutes(app, { clickhouse: deps.clickhouse.client, keys: deps.keys });
    segmentRoutes(app, { clickhouse: deps.clickhouse.client, keys: deps.keys });
    analyticsRoutes(app, { clickhouse: deps.clickhouse.client, keys: deps.keys });
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
  const app = await createHttpServer({ logger: deps.logger, metrics: deps.metrics, readiness: { clickhouse: () => deps.clickhouse.ready() } });
  await app.register(queryApiPlugin(deps));
  const url = await app.listen({ host: deps.host, port: deps.port });
  return { app, url, close: () => app.close() };
}
