// The shared server's OpenAPI document and /docs page: what they list, and that documenting a route changes nothing it does.
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from './http';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { documented, errorReply, jsonReply } from './openapi';

type Operation = { summary?: string; tags?: string[]; requestBody?: unknown; responses: Record<string, { description: string }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const echoDoc = documented({
  summary: 'Echo',
  tags: ['operations'],
  body: { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } }, additionalProperties: false } },
  querystring: { type: 'object', properties: { n: { type: 'integer', maximum: 3 } } },
  responses: {
    200: jsonReply('The body back', { type: 'object', properties: { received: { type: 'object', properties: {} } } }, { received: {} }),
    400: errorReply('Never', [{ code: 'INVALID_REQUEST', message: 'x' }]),
  },
});

/** The shared server plus, registered after it as services do, a documented echo route and an undocumented one. */
async function server(): Promise<FastifyInstance> {
  const app = await createHttpServer({ logger: createLogger({ level: 'silent' }), metrics: createMetrics(), readiness: {} });
  apps.push(app);
  await app.register(async (plugin) => {
    plugin.post('/echo', echoDoc, async (request) => ({ received: request.body, query: request.query }));
    plugin.delete('/echo', documented({ summary: 'Forget', tags: ['operations'], responses: { 204: { description: 'Forgotten' } } }), async (_request, reply) => reply.status(204).send());
    plugin.get('/plain', async () => ({ plain: true }));
  });
  return app;
}

async function documentOf(app: FastifyInstance): Promise<Document> {
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return response.json<Document>();
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const document = await documentOf(await server());
    expect(document.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('documents the shared routes and every route registered after the server was created', async () => {
    const document = await documentOf(await server());
    expect(Object.keys(document.paths).sort()).toEqual(['/echo', '/healthz', '/metrics', '/openapi.json', '/plain', '/readyz']);
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect(document.paths[path]?.get).toMatchObject({ summary: expect.any(String), tags: ['operations'] });
    }
    expect(document.paths['/readyz']?.get?.responses).toMatchObject({ 200: { description: 'Every dependency answers' }, 503: {} });
    expect(document.paths['/echo']?.post?.requestBody).toBeDefined();
  });

  it('documents an answer without a body as one, with no content', async () => {
    const document = await documentOf(await server());
    expect(document.paths['/echo']?.delete?.responses).toEqual({ 204: { description: 'Forgotten' } });
  });

  it('shows an undocumented route with fastify-swagger\'s default answer, which the route-coverage suite refuses', async () => {
    const document = await documentOf(await server());
    expect(document.paths['/plain']?.get?.summary).toBeUndefined();
    expect(document.paths['/plain']?.get?.responses).toEqual({ 200: { description: 'Default Response' } });
  });

  it('leaves the /docs page and its assets out of the document', async () => {
    const document = await documentOf(await server());
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/docs'))).toEqual([]);
  });
});

describe('documented routes', () => {
  it('do not validate what the document describes: the body, the querystring', async () => {
    const app = await server();
    const response = await app.inject({ method: 'POST', url: '/echo?n=99', payload: { other: 1 } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: { other: 1 }, query: { n: '99' } });
  });

  it('do not serialize through the documented response schema, which would drop undeclared fields', async () => {
    const app = await server();
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'a', extra: [1, 2] } });
    expect(response.json()).toEqual({ received: { name: 'a', extra: [1, 2] }, query: {} });
  });
});

describe('/docs', () => {
  it('answers an HTML page whose stylesheets and scripts are served by this server', async () => {
    const app = await server();
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    expect(assets.filter((asset) => !asset.startsWith('/docs/'))).toEqual([]);
    for (const asset of [...assets, '/docs/json']) {
      const response = await app.inject({ method: 'GET', url: asset });
      expect({ asset, status: response.statusCode }).toEqual({ asset, status: 200 });
    }
  });

  it('serves the Swagger UI bundle from the installed package', async () => {
    const response = await (await server()).inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(response.statusCode).toBe(200);
    expect(response.body.length).toBeGreaterThan(100_000);
  });
});
