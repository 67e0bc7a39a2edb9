// The ingest service: the Segment-compatible HTTP API in front of the event log.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createHttpServer } from '@cdp/runtime';
import { acceptSdkBodies } from './body';
import { ingestRoutes, type IngestDeps } from './routes/ingest';

export type { IngestDeps } from './routes/ingest';
export { maxEventBytes, maxRequestBytes } from './routes/ingest';

/** The ingest routes as an encapsulated plugin, so its body parsers do not leak into other services' routes. */
export function ingestPlugin(deps: IngestDeps): FastifyPluginAsync {
  return async (app) => {
    acceptSdkBodies(app);
    ingestRoutes(app, deps);
  };
}

export interface IngestService {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Runs ingest alone on its own port (the distributed runtime). */
export async function start(deps: IngestDeps & { host: string; port: number }): Promise<IngestService> {
  const app = createHttpServer({ logger: deps.logger, metrics: deps.metrics, readiness: { log: () => deps.log.ready() } });
  await app.register(ingestPlugin(deps));
  const url = await app.listen({ host: deps.host, port: deps.port });
  return { app, url, close: () => app.close() };
}
