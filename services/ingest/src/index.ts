// The ingest service: the Segment-compatible HTTP API in front of the event log.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createHttpServer } from '@cdp/runtime';
import { createEventAppend } from './append';
import { acceptSdkBodies } from './body';
import { defaultLimits, protectIngest, type IngestLimits } from './protect';
import { channelRoutes } from './routes/channels';
import { ingestRoutes, maxRequestBytes, type IngestDeps } from './routes/ingest';
import { settingsRoutes } from './routes/settings';

export type { IngestDeps } from './routes/ingest';
export type { IngestLimits } from './protect';
export { maxRequestBytes } from './routes/ingest';
export { maxEventBytes } from './pipeline';

/**
 * The ingest routes as an encapsulated plugin, so its body parsers, CORS and limits do not leak into other services'
 * routes. The channels' webhooks sit inside it (its limits apply) with their own raw-body parser, and append
 * through the same appender as the tracking API.
 */
export function ingestPlugin(deps: IngestDeps & { limits?: Partial<IngestLimits> }): FastifyPluginAsync {
  return async (app) => {
    await protectIngest(app, { ...defaultLimits, ...deps.limits }, maxRequestBytes, deps.keys);
    const append = createEventAppend(deps);
    await app.register(async (channels) => channelRoutes(channels, deps.channels, append));
    acceptSdkBodies(app);
    ingestRoutes(app, deps, append);
    settingsRoutes(app, deps);
  };
}

export interface IngestService {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Runs ingest alone on its own port (the distributed runtime). */
export async function start(
  deps: IngestDeps & { host: string; port: number; limits?: Partial<IngestLimits>; trustedProxies?: string[] },
): Promise<IngestService> {
  const app = await createHttpServer({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: { log: () => deps.log.ready() },
    trustProxy: deps.trustedProxies,
  });
  await app.register(ingestPlugin(deps));
  const url = await app.listen({ host: deps.host, port: deps.port });
  return { app, url, close: () => app.close() };
}
