// The OpenAPI document of every route registered after it (/openapi.json) and its browsable page (/docs), served offline.
import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyContextConfig, FastifyInstance, FastifySchema } from 'fastify';
import { errorCodes, type ErrorCode } from './errors';
import type { Scope } from './keys';

export type JsonSchema = Record<string, unknown>;

export interface MediaDoc {
  schema: JsonSchema;
  example?: unknown;
  examples?: Record<string, { summary?: string; value: unknown }>;
}

export interface ResponseDoc {
  description: string;
  /** By media type; none for an empty body. */
  content?: Record<string, MediaDoc>;
  headers?: Record<string, JsonSchema & { description: string }>;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  security?: ReadonlyArray<Record<string, readonly string[]>>;
  /** The scope a Bearer key needs: checked by `requireScopes`, stated in the document with its 401 and 403 answers. */
  scope?: Scope;
  /** Left out of the document (an alias documented on the route it stands for). */
  hide?: boolean;
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: { schema: JsonSchema; description?: string; mediaTypes?: string[]; example?: unknown };
  responses: Record<string, ResponseDoc>;
  /** Schemas the route refers to as `#/components/schemas/<name>`. */
  components?: Record<string, JsonSchema>;
}

/** Security requirements, by the names of the schemes declared in the document. */
export const writeKeySecurity = [{ writeKey: [] }] as const;
export const apiKeySecurity = [{ apiKey: [] }] as const;

export const errorSchemaRef = { $ref: '#/components/schemas/Error' };

export interface ErrorExample {
  code: ErrorCode;
  message: string;
  errors?: readonly unknown[];
}

export const retryAfterHeader = { 'Retry-After': { type: 'integer', description: 'seconds to wait before retrying' } };

/** The code, numbered when several examples share it. */
function exampleName(examples: ErrorExample[], index: number): string {
  const code = examples[index]?.code ?? 'error';
  const same = examples.filter((example) => example.code === code);
  return same.length === 1 ? code : `${code}_${same.indexOf(examples[index] as ErrorExample) + 1}`;
}

/** A documented error answer: the shared error body, with one example per way of getting it. */
export function errorReply(description: string, examples: ErrorExample[], headers?: ResponseDoc['headers']): ResponseDoc {
  const media: MediaDoc =
    examples.length === 1
      ? { schema: errorSchemaRef, example: examples[0] }
      : { schema: errorSchemaRef, examples: Object.fromEntries(examples.map((example, index) => [exampleName(examples, index), { summary: example.code, value: example }])) };
  return { description, content: { 'application/json': media }, ...(headers ? { headers } : {}) };
}

/** A documented JSON answer; the schema keeps `additionalProperties` open, the document promises no less than is sent. */
export function jsonReply(description: string, schema: JsonSchema, example: unknown): ResponseDoc {
  return { description, content: { 'application/json': { schema, example } } };
}

/** The answers of a route behind a scope: no key or an unknown one, and a key without the scope. */
function scopeResponses(scope: Scope): Record<string, ResponseDoc> {
  return {
    401: errorReply('No key, or an unknown, revoked or expired one', [
      { code: 'MISSING_READ_KEY', message: 'an API key is required: Authorization: Bearer <key>' },
      { code: 'UNKNOWN_READ_KEY', message: 'the key is unknown, revoked or expired' },
    ]),
    403: errorReply(`The key lacks the \`${scope}\` scope`, [
      { code: 'MISSING_SCOPE', message: `this key lacks the ${scope} scope that this route needs; use a key that has it (an admin creates one with: cdp keys create --scope ${scope})`, errors: [{ scope }] },
    ]),
  };
}

/** Route options to spread into a route's: its schema and the config that carries the document-only parts. */
export interface DocumentedRoute {
  schema: FastifySchema;
  config: FastifyContextConfig;
}

/**
 * Route options that document a route without changing what it does. Fastify compiles validators for params,
 * querystring and body and serializers for responses, which would refuse gzip and text/plain bodies, replace the
 * ingest's per-event errors and drop undeclared fields; so those reach only the document, through the route's own
 * swaggerTransform. Summary, tags and security are inert metadata that fastify keeps on the route's schema.
 */
export function documented(doc: RouteDoc): DocumentedRoute {
  const { params, querystring, body, responses: ownResponses, components, scope, ...metadata } = doc;
  const responses = scope ? { ...scopeResponses(scope), ...ownResponses } : ownResponses;
  const description = scope ? `${metadata.description ?? ''}\n\nNeeds a key with the \`${scope}\` scope (or \`admin\`).`.trim() : metadata.description;
  const schema: FastifySchema = { ...metadata, ...(description === undefined ? {} : { description }), security: scope ? apiKeySecurity : (metadata.security ?? []) };
  const swaggerTransform: SwaggerTransform = ({ schema: routeSchema, url, ...document }) => {
    if (components && 'openapiObject' in document) {
      const container = (document.openapiObject.components ??= {}) as { schemas?: Record<string, unknown> };
      container.schemas = { ...container.schemas, ...components };
    }
    // fastify-swagger reads a response without content as an empty JSON schema; `type: 'null'` is its word for no body.
    const response = Object.fromEntries(Object.entries(responses).map(([status, answer]) => [status, answer.content ? answer : { ...answer, type: 'null' }]));
    const documentedSchema: Record<string, unknown> = { ...routeSchema, response };
    if (params) documentedSchema.params = params;
    if (querystring) documentedSchema.querystring = querystring;
    if (body) {
      documentedSchema.body = { ...body.schema, ...(body.description ? { description: body.description } : {}), ...(body.example === undefined ? {} : { examples: [body.example] }) };
      documentedSchema.consumes = body.mediaTypes ?? ['application/json'];
    }
    return { url, schema: documentedSchema as FastifySchema };
  };
  return { schema, config: { swaggerTransform, ...(scope ? { scope } : {}) } };
}

const errorSchema = {
  type: 'object',
  description: 'Every 4xx and 5xx answer: a code to branch on, a message for people, and for some codes the problems one by one.',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', enum: errorCodes },
    message: { type: 'string' },
    errors: {
      type: 'array',
      description: 'INVALID_EVENT: one entry per problem, `index` being the event\'s position in the batch (0 for a single event).',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: { index: { type: 'integer' }, path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const document = {
  openapi: '3.0.3',
  info: {
    title: 'cdp',
    version: '0.1.0',
    description:
      'An event-driven customer data platform: a Segment-compatible tracking API in front of an event log, and a query API over the resolved profiles.',
  },
  tags: [
    { name: 'ingest', description: 'Segment-compatible tracking API (write key)' },
    { name: 'profiles', description: 'Unified customer profiles and timelines (profiles scope)' },
    { name: 'segments', description: 'Segment definitions and previews (analytics; segments:write to change), audiences (audiences)' },
    { name: 'analytics', description: 'Retention, repeat purchase, KPIs and lifecycle (analytics scope)' },
    { name: 'keys', description: 'API keys and their scopes (admin key)' },
    { name: 'privacy', description: 'Erasure, suppression and their audit log (admin key)' },
    { name: 'console', description: 'The web console for care and marketing staff, served by this server' },
    { name: 'operations', description: 'Health, readiness, metrics and this document' },
  ],
  components: {
    securitySchemes: {
      writeKey: {
        type: 'http',
        scheme: 'basic',
        description: "The source's write key as the HTTP Basic username with an empty password, as Segment SDKs send it; browsers may put `writeKey` in the JSON body instead.",
      },
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          'An API key: `Authorization: Bearer <key>`. Each route names the scope it needs: `analytics` (aggregates), `profiles` (one customer\'s personal data), `audiences` (segment members and exports), `segments:write` (create, change, delete segments), `admin` (keys; holds every scope). A read key holds analytics, profiles and audiences.',
      },
    },
    schemas: { Error: errorSchema },
  },
} as const;

const openApiDoc = documented({
  summary: 'This OpenAPI document',
  description: 'OpenAPI 3 description of every route of this server; `/docs` renders it.',
  tags: ['operations'],
  responses: { 200: jsonReply('The OpenAPI document', { type: 'object', additionalProperties: true }, { openapi: '3.0.3', info: { title: 'cdp' }, paths: {} }) },
});

/** Must be awaited before any route is added: the document collects routes as they are registered. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, { openapi: document as unknown as Record<string, unknown> });
  // Swagger UI's assets come from the installed package through @fastify/static: the page works without internet.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true }, theme: { title: 'cdp API' } });
  app.get('/openapi.json', openApiDoc, async () => app.swagger());
}
