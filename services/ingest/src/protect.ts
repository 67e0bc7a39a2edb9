// The edge of the ingest routes: CORS for browsers, 503 under pressure, a header key checked before the body is read,
// 429 per write key (per address for a key not yet checked), and limits named in errors.
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyError, FastifyInstance } from 'fastify';
import { getHeapStatistics } from 'node:v8';
import { AppError, type KeyStore } from '@cdp/runtime';
import { headerWriteKeyOf, verifyWriteKey, type WriteGrant } from './auth';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The Basic-header write key once the key store knows it, and what it may do: set before the body is read, so the
     * rate limit keys on it and the route takes the grant instead of checking the same key again.
     */
    verifiedWrite: { key: string; grant: WriteGrant } | null;
  }
}

export interface IngestLimits {
  /** Requests per second one write key may make; 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Event-loop delay above which requests are refused with 503; 0 turns the check off. */
  maxEventLoopDelayMs: number;
  /** Heap use above which requests are refused with 503; 0 means 90% of V8's heap limit. */
  maxHeapUsedBytes: number;
}

export const defaultLimits: IngestLimits = {
  rateLimitPerSecond: 10_000,
  maxEventLoopDelayMs: 1000,
  maxHeapUsedBytes: 0,
};

const retryAfterPressureSeconds = 5;

export async function protectIngest(
  app: FastifyInstance,
  limits: IngestLimits,
  maxRequestBytes: number,
  keys: KeyStore,
): Promise<void> {
  // analytics.js posts with Basic auth from any site, and adds X-Retry-Count on retries: the headers a preflight asks
  // for are reflected rather than listed, so an SDK's next header does not break browsers. Cached for a day. GET is
  // for the settings browser SDKs fetch before they send.
  await app.register(cors, { origin: true, methods: ['GET', 'POST', 'OPTIONS'], maxAge: 86_400 });

  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedBytes || Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    retryAfter: retryAfterPressureSeconds,
    pressureHandler: async (_request, _reply, type, value) => {
      throw new AppError(
        'OVERLOADED',
        `the server is overloaded (${type}: ${Math.round(value ?? 0)}); retry later`,
        undefined,
        retryAfterPressureSeconds,
      );
    },
  });

  // A request with a key in its Basic header (every server-side SDK) is refused for a wrong key before its body is
  // read, unzipped and parsed: load without a valid key costs a hash and a map lookup. Browsers put the key in the
  // body; theirs is checked by the route once the body is parsed.
  app.decorateRequest('verifiedWrite', null);
  app.addHook('onRequest', async (request) => {
    if (request.method === 'OPTIONS') return;
    const key = headerWriteKeyOf(request);
    if (key === null) return;
    request.verifiedWrite = { key, grant: await verifyWriteKey(keys, key) };
  });

  if (limits.rateLimitPerSecond > 0) {
    await app.register(rateLimit, {
      max: limits.rateLimitPerSecond,
      timeWindow: 1000,
      hook: 'preHandler',
      // Only a key the store knows names a budget: a made-up key in a body must not buy a fresh one per request.
      keyGenerator: (request) => (request.verifiedWrite ? `key:${request.verifiedWrite.key}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        new AppError(
          'RATE_LIMITED',
          `more than ${context.max} requests per second for this write key; retry in ${context.after}`,
          undefined,
          Math.max(1, Math.ceil(context.ttl / 1000)),
        ),
    });
  }

  // fastify's own errors carry no limit or remedy; name them, then hand over to the server's error handler.
  app.setErrorHandler((error: FastifyError, _request, _reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `the request body is larger than ${maxRequestBytes / 1024} KB (after gzip decoding); send smaller batches`,
      );
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `${error.message}; send application/json or text/plain holding JSON`,
      );
    }
    throw error;
  });
}
