// Behaviour of the shared HTTP server through inject: error-to-status mapping, body limits, health, readiness, metrics.
import { ClickHouseError } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { createHttpServer, invalidInput, type ReadinessCheck } from './http';
import { createLogger } from './logger';
import { createMetrics } from './metrics';

const logger = createLogger({ level: 'silent' });
const apps: FastifyInstance[] = [];

async function server(
  options: { readiness?: Record<string, ReadinessCheck>; bodyLimit?: number } = {},
): Promise<FastifyInstance> {
  const app = await createHttpServer({
    logger,
    metrics: createMetrics(),
    readiness: options.readiness ?? {},
    bodyLimit: options.bodyLimit,
  });
  apps.push(app);
  return app;
}

/** A server with one POST /echo route that returns the parsed body. */
async function echoServer(bodyLimit?: number): Promise<FastifyInstance> {
  const app = await server({ bodyLimit });
  app.post('/echo', async (request) => ({ received: request.body }));
  return app;
}

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('errors', () => {
  it('answers an unknown route with 404 NOT_FOUND naming the method and path', async () => {
    const response = await (await server()).inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ code: 'NOT_FOUND', message: 'no route GET /nowhere' });
  });

  it('maps an AppError to its status and passes its details as errors', async () => {
    const app = await server();
    const details = [{ path: 'event', message: 'is required' }];
    app.post('/track', async () => {
      throw new AppError('INVALID_EVENT', 'x', details);
    });
    const response = await app.inject({ method: 'POST', url: '/track', payload: { type: 'track' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ code: 'INVALID_EVENT', message: 'x', errors: details });
  });

  it.each([
    [
      'a server that refuses connections',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }),
    ],
    ['a request that timed out', new Error('Timeout error.')],
    ['a closed chDB connection', new Error('ChdbConnection is closed')],
    [
      'a server out of memory',
      new ClickHouseError({ message: 'Memory limit (total) exceeded', code: '241', type: 'MEMORY_LIMIT_EXCEEDED' }),
    ],
    [
      'a failure caused by a reset connection',
      new Error('request failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    ],
  ])('answers %s with 503 STORE_UNAVAILABLE and Retry-After', async (_name, failure) => {
    const app = await server();
    app.get('/v1/analytics/kpis', async () => {
      throw failure;
    });
    const response = await app.inject({ method: 'GET', url: '/v1/analytics/kpis' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toEqual({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('ClickHouse') });
  });

  it('answers a query ClickHouse refuses as wrong with 500 INTERNAL: a fault of ours, not an outage', async () => {
    const app = await server();
    app.get('/v1/analytics/kpis', async () => {
      throw new ClickHouseError({ message: 'Syntax error: failed at position 8', code: '62', type: 'SYNTAX_ERROR' });
    });
    const response = await app.inject({ method: 'GET', url: '/v1/analytics/kpis' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });

  it('answers a plain Error with 500 INTERNAL and keeps its message and stack out of the body', async () => {
    const app = await server();
    app.get('/boom', async () => {
      throw new Error('database password is hunter2');
    });
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain('stack');
    expect(response.body).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("answers a SyntaxError from the route's own code with 500, since the client sent valid JSON", async () => {
    const app = await server();
    app.get('/profile', async () => JSON.parse('{"stored": ') as unknown);
    const response = await app.inject({ method: 'GET', url: '/profile' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });

  it('sets retry-after from an AppError that carries one', async () => {
    const app = await server();
    app.post('/track', async () => {
      throw new AppError('LOG_UNAVAILABLE', 'event log is busy', undefined, 5);
    });
    const response = await app.inject({ method: 'POST', url: '/track', payload: {} });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toEqual({ code: 'LOG_UNAVAILABLE', message: 'event log is busy' });
  });

  it('sends no retry-after for an AppError without one', async () => {
    const app = await server();
    app.get('/gone', async () => {
      throw new AppError('NOT_FOUND', 'no such profile');
    });
    const response = await app.inject({ method: 'GET', url: '/gone' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('answers a body that fails the route schema with 400 INVALID_REQUEST, every problem at its path', async () => {
    const app = await server();
    app.post(
      '/named',
      {
        schema: {
          body: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
      async () => ({}),
    );
    const missing = await app.inject({ method: 'POST', url: '/named', payload: { other: 1 } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({
      code: 'INVALID_REQUEST',
      message: "(body): must have required property 'name'",
      errors: [{ path: '', message: "must have required property 'name'" }],
    });
    const wrong = await app.inject({
      method: 'POST',
      url: '/named',
      payload: { name: 'a', tags: ['x', { not: 'a string' }] },
    });
    expect(wrong.json()).toEqual({
      code: 'INVALID_REQUEST',
      message: 'tags.1: must be string',
      errors: [{ path: 'tags.1', message: 'must be string' }],
    });
  });

  it("answers a handler's own check with the same 400 as a schema's", async () => {
    const app = await server();
    app.get('/zone', async () => {
      throw invalidInput([{ path: 'tz', message: 'unknown time zone' }], { part: 'querystring' });
    });
    const response = await app.inject({ method: 'GET', url: '/zone' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'INVALID_REQUEST',
      message: 'tz: unknown time zone',
      errors: [{ path: 'tz', message: 'unknown time zone' }],
    });
  });
});

describe('request bodies', () => {
  it('passes a well-formed JSON body to the route', async () => {
    const response = await (
      await echoServer()
    ).inject({ method: 'POST', url: '/echo', payload: { event: 'Signed Up' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: { event: 'Signed Up' } });
  });

  it('answers a malformed JSON body with 400 INVALID_JSON', async () => {
    const response = await (
      await echoServer()
    ).inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"event": "Signed Up",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_JSON' });
  });

  it('answers an empty JSON body with 400 INVALID_JSON', async () => {
    const response = await (
      await echoServer()
    ).inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_JSON' });
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const payload = JSON.stringify({ note: 'x'.repeat(200) });
    const response = await (
      await echoServer(64)
    ).inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('accepts a body just under the limit', async () => {
    const payload = JSON.stringify({ note: 'x'.repeat(40) });
    expect(payload.length).toBeLessThan(64);
    const response = await (
      await echoServer(64)
    ).inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    expect(response.statusCode).toBe(200);
  });

  it('answers an unsupported content type with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await (
      await echoServer()
    ).inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<event/>',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('answers a query string past the 16 KB of request line and headers with 431 HEADERS_TOO_LARGE, in the usual shape', async () => {
    const app = await server();
    app.get('/search', async () => ({ found: [] }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/search`;
    expect((await fetch(`${base}?q=${'x'.repeat(1000)}`)).status).toBe(200);
    const response = await fetch(`${base}?q=${'%C3%B6'.repeat(3000)}`);
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      code: 'HEADERS_TOO_LARGE',
      message: 'the request line and headers exceed 16 KB: shorten the query string (or send fewer, shorter headers)',
    });
  });
});

describe('health and readiness', () => {
  it('answers /healthz with 200', async () => {
    const response = await (await server()).inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('is ready with 200 when every check passes, listing the checks', async () => {
    const app = await server({ readiness: { log: async () => true, clickhouse: async () => true } });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { log: true, clickhouse: true } });
  });

  it('is not ready with 503 when a check returns false', async () => {
    const app = await server({ readiness: { log: async () => true, clickhouse: async () => false } });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not ready', checks: { log: true, clickhouse: false } });
  });

  it('is not ready with 503 when a check rejects', async () => {
    const app = await server({
      readiness: { log: async () => true, clickhouse: () => Promise.reject(new Error('connection refused')) },
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not ready', checks: { log: true, clickhouse: false } });
  });

  it('is not ready with 503 when a check throws before returning a promise', async () => {
    const throwsAtOnce: ReadinessCheck = () => {
      throw new Error('client not built yet');
    };
    const app = await server({ readiness: { log: async () => true, clickhouse: throwsAtOnce } });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not ready', checks: { log: true, clickhouse: false } });
  });
});

describe('metrics', () => {
  it('serves Prometheus text with the request duration histogram', async () => {
    const app = await server();
    await app.inject({ method: 'GET', url: '/healthz' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toContain('# TYPE cdp_http_request_duration_seconds histogram');
    expect(response.body).toContain(
      'cdp_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1',
    );
  });

  it('records an unknown route under one label instead of its path', async () => {
    const app = await server();
    await app.inject({ method: 'GET', url: '/random-123' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).not.toContain('random-123');
    expect(response.body).toMatch(
      /cdp_http_request_duration_seconds_count\{method="GET",route="[^"]*",status="404"\} 1/,
    );
  });
});

describe('closing', () => {
  it('cuts the connection of a client that stops reading its response, rather than waiting for it', async () => {
    const app = await createHttpServer({ logger, metrics: createMetrics(), readiness: {} });
    // Far more than the socket buffers hold, so the response cannot finish while nobody reads it.
    const half = 'x'.repeat(32 * 1024 * 1024);
    app.get('/large', async (_request, reply) => reply.type('text/plain').send(Readable.from([half, half])));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/large`);
    expect(response.status).toBe(200);
    // Without a bounded drain, closing waits for this client, which never reads: the test times out.
    await app.close();
    await expect(response.text()).rejects.toThrow();
  });
});
