// The HTTP server every service shares: health, readiness, metrics, the OpenAPI document, JSON errors and the error-to-status mapping.
import http from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { redactedText } from './logger';
import { isStoreUnavailable } from './clickhouse';
import { AppError, type ErrorCode } from './errors';
import type { Metrics } from './metrics';
import { documented, jsonReply, registerOpenApi } from './openapi';

export type ReadinessCheck = () => Promise<boolean>;

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
  /** Checks that come and go (one per event-log consumer), asked for at each request beside `readiness`. */
  currentReadiness?: () => Record<string, ReadinessCheck>;
  /** Largest request body accepted, in bytes, before any route narrows it. */
  bodyLimit?: number;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For is believed for `request.ip`; none by default. */
  trustProxy?: string[];
}

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_VALIDATION: 'INVALID_REQUEST',
};

/** The longest path parameter a route receives (Fastify's default is 100 characters). */
const maxPathParameterLength = 2048;

/**
 * How long closing waits for responses still being sent (a client reading slowly, or not at all) before it cuts their
 * connections; idle keep-alive connections are closed at once.
 */
const drainMs = 5_000;

/** Seconds a client is asked to wait when ClickHouse does not answer. */
const storeRetryAfterSeconds = 5;

/** One problem with a request's input: where (dotted, `rule.and.1.gte`; '' for the whole part) and what. */
export interface InputProblem {
  path: string;
  message: string;
}

/** How a route answers input that fails its schemas: the code, and words to put before the problems. */
export interface InvalidInputAnswer {
  code: ErrorCode;
  lead?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route answers invalid input (INVALID_REQUEST listing the problems by default); set by `documented({ invalid })`. */
    invalid?: InvalidInputAnswer;
  }
}

/**
 * The one 400 for input that fails a route's schema or a handler's own check: every problem at its dotted path in
 * `errors`, and all of them in the message, `(body)` (or the part's name) standing for the part itself.
 */
export function invalidInput(
  problems: InputProblem[],
  options: { part?: string; answer?: InvalidInputAnswer } = {},
): AppError {
  const { code, lead } = options.answer ?? { code: 'INVALID_REQUEST' };
  const listed = problems
    .map((problem) => `${problem.path || `(${options.part ?? 'body'})`}: ${problem.message}`)
    .join('; ');
  return new AppError(code, lead ? `${lead}: ${listed}` : listed, problems);
}

/** zod's issues as problems at dotted paths, for a check a handler makes with a schema of its own. */
export function problemsOf(error: z.ZodError): InputProblem[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** `/rule/and/1/gte` (a JSON pointer, as Fastify reports where validation failed) as `rule.and.1.gte`. */
const dottedPath = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((step) => step.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');

/** The problems of a request part that failed its route schema (zod or JSON Schema), or null for any other error. */
function validationProblems(error: unknown): { part: string; problems: InputProblem[] } | null {
  const failure = error as Partial<FastifyError>;
  if (failure.code !== 'FST_ERR_VALIDATION' || !Array.isArray(failure.validation) || failure.validation.length === 0)
    return null;
  const problems = failure.validation.map((issue) => ({
    path: dottedPath(issue.instancePath),
    message: issue.message ?? 'is not valid',
  }));
  return { part: failure.validationContext ?? 'body', problems };
}

/**
 * Turns anything thrown in a request into { status, body }; only a fault of ours is a 500. `invalid` is how the
 * route answers input that fails its schemas.
 */
export function errorResponse(
  error: unknown,
  invalid?: InvalidInputAnswer,
): { status: number; body: Record<string, unknown>; retryAfter?: number } {
  const validation = validationProblems(error);
  if (validation) return errorResponse(invalidInput(validation.problems, { part: validation.part, answer: invalid }));
  if (!(error instanceof AppError) && isStoreUnavailable(error)) {
    return errorResponse(
      new AppError(
        'STORE_UNAVAILABLE',
        'the analytics store (ClickHouse) does not answer right now; try again shortly',
        undefined,
        storeRetryAfterSeconds,
      ),
    );
  }
  if (error instanceof AppError) {
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.details !== undefined) body.errors = error.details;
    return { status: error.status, body, retryAfter: error.retryAfterSeconds };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode =
      (fastifyError.code && fastifyCodes[fastifyError.code]) ||
      (status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST');
    const message =
      error instanceof SyntaxError
        ? `body is not valid JSON: ${error.message}`
        : (fastifyError.message ?? 'bad request');
    return { status, body: { code, message } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

const healthDoc = documented({
  summary: 'Liveness',
  description: 'Answers as long as the process serves HTTP; says nothing about its dependencies (see `/readyz`).',
  tags: ['operations'],
  responses: {
    200: jsonReply(
      'The process is alive',
      { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
      { status: 'ok' },
    ),
  },
});

const readinessSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    checks: {
      type: 'object',
      description:
        'Each dependency (event log, ClickHouse) and whether it answers, and each event-log consumer (`consumer:<group>`) and whether it still consumes.',
      additionalProperties: { type: 'boolean' },
    },
  },
};

const readinessDoc = documented({
  summary: 'Readiness',
  description:
    'Whether every dependency of the services in this process answers; load balancers send traffic only when it is 200.',
  tags: ['operations'],
  responses: {
    200: jsonReply('Every dependency answers', readinessSchema, {
      status: 'ready',
      checks: { log: true, clickhouse: true },
    }),
    503: jsonReply('A dependency does not answer', readinessSchema, {
      status: 'not ready',
      checks: { log: true, clickhouse: false },
    }),
  },
});

const metricsDoc = documented({
  summary: 'Prometheus metrics',
  description: 'Request durations by route and status, ingest and resolver counters, and Node.js process metrics.',
  tags: ['operations'],
  responses: {
    200: {
      description: 'Prometheus text exposition format',
      content: {
        'text/plain': {
          schema: { type: 'string' },
          example:
            '# TYPE cdp_http_request_duration_seconds histogram\ncdp_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1\n',
        },
      },
    },
  },
});

/**
 * Requests Node's HTTP parser refuses before any route sees them, answered with the error body every route uses:
 * request line and headers over Node's 16 KB (a long query string), a request that took too long to arrive, and
 * anything that is not HTTP. Fastify's own answer has another shape.
 */
function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError(
          'HEADERS_TOO_LARGE',
          'the request line and headers exceed 16 KB: shorten the query string (or send fewer, shorter headers)',
        )
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('REQUEST_TIMEOUT', 'the request did not arrive in time')
        : new AppError('INVALID_REQUEST', 'the request is not valid HTTP/1.1');
  this.log.debug({ code: error.code }, appError.message);
  if (socket.writable) {
    const body = JSON.stringify({ code: appError.code, message: appError.message });
    socket.write(
      `HTTP/1.1 ${appError.status} ${http.STATUS_CODES[appError.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The server every service adds its routes to; resolves once the OpenAPI document is ready to collect them. */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    // Per-request lines would drown the logs at ingest rates; the duration histogram covers requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Plugins read the store while registering (keys, suppressions); an in-process store busy with a long query (the
    // first segment pass over a large base) can keep them waiting longer than Fastify's 10 s default.
    pluginTimeout: 120_000,
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? options.trustProxy : false,
    // A profile is addressed by `type:value` in the path: a long email or anonymous id must reach its route, not a 404.
    routerOptions: { maxParamLength: maxPathParameterLength },
    clientErrorHandler,
  });

  app.addHook('preClose', (done) => {
    setTimeout(() => app.server.closeAllConnections(), drainMs).unref();
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body, retryAfter } = errorResponse(error, request.routeOptions.config.invalid);
    // A 503 of ours (overload, log or store down) is expected under pressure: one line without a stack, not an error report.
    // The route's pattern, never its URL: a profile lookup's path names the customer (`/v1/profiles/email:…`).
    const route = `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
    if (status === 503)
      request.log.warn(
        { code: body.code, route, reason: redactedText(error instanceof Error ? error.message : String(error)) },
        String(body.message),
      );
    else if (status >= 500) request.log.error({ err: error, route }, 'request failed');
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.addHook('onResponse', (request, reply, done) => {
    options.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  await registerOpenApi(app);

  app.get('/healthz', healthDoc, async () => ({ status: 'ok' }));

  app.get('/readyz', readinessDoc, async (_request, reply) => {
    const entries = await Promise.all(
      Object.entries({ ...options.readiness, ...options.currentReadiness?.() }).map(
        async ([name, check]) =>
          [
            name,
            await Promise.resolve()
              .then(check)
              .catch(() => false),
          ] as const,
      ),
    );
    const checks = Object.fromEntries(entries);
    const ready = entries.every(([, ok]) => ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', metricsDoc, async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.header('content-type', options.metrics.registry.contentType).send(body);
  });

  return app;
}
