// The edge of the ingest routes: CORS for browsers, 503 under pressure, 429 per write key, and limits named in errors.
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyError, FastifyInstance } from 'fastify';
import { getHeapStatistics } from 'node:v8';
import { AppError } from '@cdp/runtime';
import { writeKeyOf } from './auth';

export interface IngestLimits {
  /** Requests per second one write key may make; 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Event-loop delay above which requests are refused with 503; 0 turns the check off. */
  maxEventLoopDelayMs: number;
  /** Heap use above which requests are refused with 503; 0 means 90% of V8's heap limit. */
  maxHeapUsedBytes: number;
}

export const defaultLimits: IngestLimits = { rateLimitPerSecond: 10_000, maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0 };

const retryAfterPressureSeconds = 5;

export async function protectIngest(app: FastifyInstance, limits: IngestLimits, maxRequestBytes: number): Promise<void> {
  // analytics.js posts with Basic auth from any site, and adds X-Retry-Count on retries: the headers a preflight asks
  // for are reflected rather than listed, so an SDK's next header does not break browsers. Cached for a day.
  await app.register(cors, { origin: true, methods: ['POST', 'OPTIONS'], maxAge: 86_400 });

  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedBytes || Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    retryAfter: retryAfterPressureSeconds,
    pressureHandler: async (_request, _reply, type, value) => {
      throw new AppError('OVERLOADED', `the server is overloaded (${type}: ${Math.round(value ?? 0)}); retry later`, undefined, retryAfterPressureSeconds);
    },
  });

  if (limits.rateLimitPerSecond > 0) {
    await app.register(rateLimit, {
      max: limits.rateLimitPerSecond,
      timeWindow: 1000,
      // After parsing, so a key sent in the body (browsers) counts as much as one in the Basic header.
      hook: 'preHandler',
      keyGenerator: (request) => `key:${writeKeyOf(request) ?? `ip:${request.ip}`}`,
      errorResponseBuilder: (_request, context) =>
        new AppError('RATE_LIMITED', `more than ${context.max} requests per second for this write key; retry in ${context.after}`, undefined, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  }

  // fastify's own errors carry no limit or remedy; name them, then hand over to the server's error handler.
  app.setErrorHandler((error: FastifyError, _request, _reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      throw new AppError('PAYLOAD_TOO_LARGE', `the request body is larger than ${maxRequestBytes / 1024} KB (after gzip decoding); send smaller batches`);
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${error.message}; send application/json or text/plain holding JSON`);
    }
    throw error;
  });
}
