// The shared server's OpenAPI document and /docs page: what they list, that documenting a route changes nothing it does,
// and that a route's zod schemas both validate its input and document it.
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpServer } from './http';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { documented, errorReply, jsonReply, type ZodTypeProvider } from './openapi';

type Operation = {
  summary?: string;
  tags?: string[];
  requestBody?: unknown;
  responses: Record<string, { description: string }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const echoDoc = documented({
  summary: 'Echo',
  tags: ['operations'],
  body: {
    schema: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' } },
      additionalProperties: false,
    },
  },
  querystring: { type: 'object', properties: { n: { type: 'integer', maximum: 3 } } },
  responses: {
    200: jsonReply(
      'The body back',
      { type: 'object', properties: { received: { type: 'object', properties: {} } } },
      { received: {} },
    ),
    400: errorReply('Never', [{ code: 'INVALID_REQUEST', message: 'x' }]),
  },
});

const greetingQuery = z.object({
  times: z.coerce.number().int().min(1).max(3).default(1).describe('How many greetings'),
});
const greetingBody = z.strictObject({ name: z.string().trim().min(1).max(50), rule: z.unknown() });
const ruleRef = { $ref: '#/components/schemas/Rule' };

const greetDoc = documented({
  summary: 'Greet',
  tags: ['operations'],
  validate: { querystring: greetingQuery, body: greetingBody },
  shownAs: new Map([[greetingBody.shape.rule, ruleRef]]),
  components: { Rule: { type: 'object', additionalProperties: true } },
  body: { example: { name: 'Ada', rule: {} } },
  responses: {
    200: jsonReply(
      'The greetings',
      { type: 'object', properties: { greetings: { type: 'array', items: { type: 'string' } } } },
      { greetings: ['hello Ada'] },
    ),
  },
});

const renameDoc = documented({
  summary: 'Rename',
  tags: ['operations'],
  validate: { params: z.object({ id: z.string().regex(/^n_/) }), body: z.object({ name: z.string() }) },
  invalid: { code: 'INVALID_SEGMENT', lead: 'not a name' },
  responses: { 204: { description: 'Renamed' } },
});

/** The shared server plus, registered after it as services do, documented echo and validated routes and an undocumented one. */
async function server(): Promise<FastifyInstance> {
  const app = await createHttpServer({
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    readiness: {},
  });
  apps.push(app);
  await app.register(async (plugin) => {
    const api = plugin.withTypeProvider<ZodTypeProvider>();
    api.post('/greet', greetDoc, async (request) => ({
      greetings: Array.from({ length: request.query.times }, () => `hello ${request.body.name}`),
      timesType: typeof request.query.times,
    }));
    api.put('/names/:id', renameDoc, async (_request, reply) => reply.status(204).send());
    plugin.post('/echo', echoDoc, async (request) => ({ received: request.body, query: request.query }));
    plugin.delete(
      '/echo',
      documented({ summary: 'Forget', tags: ['operations'], responses: { 204: { description: 'Forgotten' } } }),
      async (_request, reply) => reply.status(204).send(),
    );
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
    expect(Object.keys(document.paths).sort()).toEqual([
      '/echo',
      '/greet',
      '/healthz',
      '/metrics',
      '/names/{id}',
      '/openapi.json',
      '/plain',
      '/readyz',
    ]);
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect(document.paths[path]?.get).toMatchObject({ summary: expect.any(String), tags: ['operations'] });
    }
    expect(document.paths['/readyz']?.get?.responses).toMatchObject({
      200: { description: 'Every dependency answers' },
      503: {},
    });
    expect(document.paths['/echo']?.post?.requestBody).toBeDefined();
  });

  it('documents an answer without a body as one, with no content', async () => {
    const document = await documentOf(await server());
    expect(document.paths['/echo']?.delete?.responses).toEqual({ 204: { description: 'Forgotten' } });
  });

  it("shows an undocumented route with fastify-swagger's default answer, which the route-coverage suite refuses", async () => {
    const document = await documentOf(await server());
    expect(document.paths['/plain']?.get?.summary).toBeUndefined();
    expect(document.paths['/plain']?.get?.responses).toEqual({ 200: { description: 'Default Response' } });
  });

  it('leaves the /docs page and its assets out of the document', async () => {
    const document = await documentOf(await server());
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/docs'))).toEqual([]);
  });
});

describe('routes documented with JSON Schema alone', () => {
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

describe('routes that validate', () => {
  it('answer input failing their zod schemas with one 400 listing every problem at its path, before the handler', async () => {
    const response = await (
      await server()
    ).inject({ method: 'POST', url: '/greet', payload: { name: ' ', rule: 1, extra: true } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'INVALID_REQUEST',
      message: 'name: Too small: expected string to have >=1 characters; (body): Unrecognized key: "extra"',
      errors: [
        { path: 'name', message: 'Too small: expected string to have >=1 characters' },
        { path: '', message: 'Unrecognized key: "extra"' },
      ],
    });
    const query = await (
      await server()
    ).inject({ method: 'POST', url: '/greet?times=4', payload: { name: 'Ada', rule: {} } });
    expect(query.json()).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ path: 'times' }] });
  });

  it('answer with the code their route names, whichever part failed', async () => {
    const app = await server();
    const params = await app.inject({ method: 'PUT', url: '/names/x_1', payload: { name: 'a' } });
    expect(params.statusCode).toBe(400);
    expect(params.json()).toMatchObject({
      code: 'INVALID_SEGMENT',
      message: expect.stringMatching(/^not a name: id: /),
      errors: [{ path: 'id' }],
    });
    const body = await app.inject({ method: 'PUT', url: '/names/n_1', payload: { name: 1 } });
    expect(body.json()).toMatchObject({ code: 'INVALID_SEGMENT', errors: [{ path: 'name' }] });
    expect((await app.inject({ method: 'PUT', url: '/names/n_1', payload: { name: 'b' } })).statusCode).toBe(204);
  });

  it('hand the handler what the schemas parse to: a number for a number, the default when absent', async () => {
    const app = await server();
    const twice = await app.inject({ method: 'POST', url: '/greet?times=2', payload: { name: ' Ada ', rule: {} } });
    expect(twice.json()).toEqual({ greetings: ['hello Ada', 'hello Ada'], timesType: 'number' });
    expect((await app.inject({ method: 'POST', url: '/greet', payload: { name: 'Ada', rule: {} } })).json()).toEqual({
      greetings: ['hello Ada'],
      timesType: 'number',
    });
  });

  it('are documented from the same schemas, as a client sends them, with their descriptions and examples', async () => {
    type ValidatedOperation = {
      parameters: Array<{ name: string; in: string; schema: unknown; description?: string }>;
      requestBody: { content: Record<string, { schema: unknown; example?: unknown }> };
    };
    const document = (await (await server()).inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, ValidatedOperation>>;
    }>();
    const greet = document.paths['/greet']?.post;
    expect(greet?.parameters).toEqual([
      {
        name: 'times',
        in: 'query',
        required: false,
        description: 'How many greetings',
        schema: { type: 'integer', minimum: 1, maximum: 3, default: 1 },
      },
    ]);
    expect(greet?.requestBody.content['application/json']).toEqual({
      schema: {
        type: 'object',
        required: ['name', 'rule'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 50 }, rule: ruleRef },
      },
      example: { name: 'Ada', rule: {} },
    });
    expect(document.paths['/names/{id}']?.put?.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^n_' } },
    ]);
  });

  it('cannot be documented apart from what they validate', () => {
    const both = () =>
      documented({
        summary: 'Both',
        tags: ['operations'],
        validate: { querystring: greetingQuery },
        querystring: { type: 'object' },
        responses: {},
      });
    expect(both).toThrow(/querystring is both validated and documented apart/);
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
