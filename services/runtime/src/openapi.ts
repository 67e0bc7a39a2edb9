// The OpenAPI document of every route registered after it (/openapi.json) and its browsable page (/docs), served offline.
import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyContextConfig, FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorCodes, type ErrorCode } from './errors';
import type { InputProblem, InvalidInputAnswer } from './http';
import type { Scope } from './keys';

export type { ZodTypeProvider } from 'fastify-type-provider-zod';

export type JsonSchema = Record<string, unknown>;

/** The parts of a request Fastify checks with zod before the handler runs; the handler receives what they parse to. */
export interface RouteInput {
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
}

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

export interface RouteDoc<Input extends RouteInput = RouteInput> {
  summary: string;
  description?: string;
  tags: string[];
  security?: ReadonlyArray<Record<string, readonly string[]>>;
  /** The scope a Bearer key needs: checked by `requireScopes`, stated in the document with its 401 and 403 answers. */
  scope?: Scope;
  /** Left out of the document (an alias documented on the route it stands for). */
  hide?: boolean;
  /**
   * zod schemas of the params, querystring and body: Fastify validates each before the handler, which receives what
   * it parses to (typed through `ZodTypeProvider`), and the document shows each as a client sends it.
   */
  validate?: Input;
  /** How input failing `validate` is answered: INVALID_REQUEST listing the problems unless this says otherwise. */
  invalid?: InvalidInputAnswer;
  /** zod schemas inside `validate` the document shows as the JSON Schema given here instead (a component's `$ref`). */
  shownAs?: ReadonlyMap<z.ZodType, JsonSchema>;
  /** Document-only params and querystring, for a route that checks its input itself. */
  params?: JsonSchema;
  querystring?: JsonSchema;
  /** The body's description, media types and example; `schema` only for a body that `validate` does not hold. */
  body?: { schema?: JsonSchema; description?: string; mediaTypes?: string[]; example?: unknown };
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
export function errorReply(
  description: string,
  examples: ErrorExample[],
  headers?: ResponseDoc['headers'],
): ResponseDoc {
  const media: MediaDoc =
    examples.length === 1
      ? { schema: errorSchemaRef, example: examples[0] }
      : {
          schema: errorSchemaRef,
          examples: Object.fromEntries(
            examples.map((example, index) => [exampleName(examples, index), { summary: example.code, value: example }]),
          ),
        };
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
      {
        code: 'MISSING_SCOPE',
        message: `this key lacks the ${scope} scope that this route needs; use a key that has it (an admin creates one with: cdp keys create --scope ${scope})`,
        errors: [{ scope }],
      },
    ]),
  };
}

/**
 * A problem this route's own schemas report, for its 400's example: a path parameter far too long or empty, else what
 * an empty query or body object is refused for (a field it requires), else one field given a value of the wrong type.
 */
function exampleProblem(validate: RouteInput): InputProblem & { part: string } {
  const fieldsOf = (schema: z.ZodType | undefined) => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);
  const params = (value: string) => Object.fromEntries(fieldsOf(validate.params).map((field) => [field, value]));
  const [field] = fieldsOf(validate.querystring ?? validate.body);
  const wrongPart = validate.querystring ? 'querystring' : 'body';
  const tries: Array<[keyof RouteInput, unknown]> = [
    ['params', params('x'.repeat(100_000))],
    ['params', params('')],
    ['querystring', {}],
    ['body', {}],
    [wrongPart, field === undefined ? null : { [field]: { a: 1 } }],
  ];
  for (const [part, input] of tries) {
    const parsed = (validate[part] as z.ZodType | undefined)?.safeParse(input);
    const [issue] = parsed && !parsed.success ? parsed.error.issues : [];
    if (issue) return { part, path: issue.path.map(String).join('.'), message: issue.message };
  }
  return { part: 'params', path: fieldsOf(validate.params)[0] ?? '', message: 'Invalid input' };
}

/** The 400 of a route whose input `validate` checks, for a route that documents no 400 of its own. */
function invalidInputResponse(validate: RouteInput, invalid: InvalidInputAnswer | undefined): ResponseDoc {
  const code = invalid?.code ?? 'INVALID_REQUEST';
  const { part, ...problem } = exampleProblem(validate);
  const message = `${invalid?.lead ? `${invalid.lead}: ` : ''}${problem.path || `(${part})`}: ${problem.message}`;
  return errorReply('A parameter or the body does not match this operation (each problem in `errors`)', [
    { code, message, errors: [problem] },
  ]);
}

/** The 431 Node's HTTP parser gives a request line and headers over 16 KB: a long enough path or query string. */
const headersTooLarge = errorReply('The request line and headers exceed 16 KB', [
  {
    code: 'HEADERS_TOO_LARGE',
    message: 'the request line and headers exceed 16 KB: shorten the query string (or send fewer, shorter headers)',
  },
]);

/** Route options to spread into a route's: its schema (with the zod schemas to validate), and the config that carries the document-only parts. */
export interface DocumentedRoute<Input extends RouteInput = Record<never, never>> {
  schema: FastifySchema & Input;
  config: FastifyContextConfig;
  validatorCompiler?: FastifySchemaCompiler<FastifySchema & Input>;
}

/** A request part's JSON Schema as a client sends it (before defaults and transforms), in OpenAPI 3.0's dialect. */
export function inputJsonSchema(schema: z.ZodType, shownAs?: ReadonlyMap<z.ZodType, JsonSchema>): JsonSchema {
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      const shown = shownAs?.get(zodSchema as unknown as z.ZodType);
      if (!shown) return;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as JsonSchema)[key];
      Object.assign(jsonSchema, shown);
    },
  }) as JsonSchema;
}

/**
 * Route options that document a route and validate what `validate` names. Fastify compiles the zod schemas of
 * `validate` (with zod itself, route by route) and answers input failing them with one 400 before the handler runs;
 * the document shows their JSON Schema, so the two cannot differ. Params, querystring and body given as JSON Schema
 * reach only the document, through the route's own swaggerTransform: the ingest accepts gzip and text/plain bodies
 * and reports problems event by event, which a route schema would replace. Responses are never compiled into
 * serializers, which would drop undeclared fields. Summary, tags and security are inert metadata that fastify keeps on
 * the route's schema.
 */
export function documented<Input extends RouteInput = Record<never, never>>(
  doc: RouteDoc<Input>,
): DocumentedRoute<Input> {
  const {
    params,
    querystring,
    body,
    validate,
    invalid,
    shownAs,
    responses: ownResponses,
    components,
    scope,
    ...metadata
  } = doc;
  for (const part of ['params', 'querystring'] as const) {
    if (validate?.[part] && doc[part])
      throw new Error(
        `${metadata.summary}: ${part} is both validated and documented apart; document it through validate alone`,
      );
  }
  if (validate?.body && body?.schema)
    throw new Error(
      `${metadata.summary}: the body is both validated and documented apart; document it through validate alone`,
    );
  const responses = {
    ...(validate && Object.keys(validate).length > 0 ? { 400: invalidInputResponse(validate, invalid) } : {}),
    ...(scope ? scopeResponses(scope) : {}),
    ...(validate?.params || validate?.querystring || params || querystring ? { 431: headersTooLarge } : {}),
    ...ownResponses,
  };
  const description = scope
    ? `${metadata.description ?? ''}\n\nNeeds a key with the \`${scope}\` scope (or \`admin\`).`.trim()
    : metadata.description;
  const schema = {
    ...metadata,
    ...(description === undefined ? {} : { description }),
    security: scope ? apiKeySecurity : (metadata.security ?? []),
    ...validate,
  } as unknown as FastifySchema & Input;
  const shown = {
    params: validate?.params ? inputJsonSchema(validate.params, shownAs) : params,
    querystring: validate?.querystring ? inputJsonSchema(validate.querystring, shownAs) : querystring,
    body: validate?.body ? inputJsonSchema(validate.body, shownAs) : body?.schema,
  };
  const swaggerTransform: SwaggerTransform = ({ schema: routeSchema, url, ...document }) => {
    if (components && 'openapiObject' in document) {
      const container = (document.openapiObject.components ??= {}) as { schemas?: Record<string, unknown> };
      container.schemas = { ...container.schemas, ...components };
    }
    // fastify-swagger reads a response without content as an empty JSON schema; `type: 'null'` is its word for no body.
    const response = Object.fromEntries(
      Object.entries(responses).map(([status, answer]) => [
        status,
        answer.content ? answer : { ...answer, type: 'null' },
      ]),
    );
    // The route's own schema holds the zod schemas it validates with: the document takes their JSON Schema instead.
    const { params: _params, querystring: _querystring, body: _body, ...inert } = routeSchema ?? {};
    const documentedSchema: Record<string, unknown> = { ...inert, response };
    if (shown.params) documentedSchema.params = shown.params;
    if (shown.querystring) documentedSchema.querystring = shown.querystring;
    if (shown.body) {
      documentedSchema.body = {
        ...shown.body,
        ...(body?.description ? { description: body.description } : {}),
        ...(body?.example === undefined ? {} : { examples: [body.example] }),
      };
      documentedSchema.consumes = body?.mediaTypes ?? ['application/json'];
    }
    return { url, schema: documentedSchema as FastifySchema };
  };
  const config: FastifyContextConfig = {
    swaggerTransform,
    ...(scope ? { scope } : {}),
    ...(invalid ? { invalid } : {}),
  };
  return {
    schema,
    config,
    ...(validate
      ? { validatorCompiler: validatorCompiler as unknown as FastifySchemaCompiler<FastifySchema & Input> }
      : {}),
  };
}

const errorSchema = {
  type: 'object',
  description:
    'Every 4xx and 5xx answer: a code to branch on, a message for people, and for some codes the problems one by one.',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', enum: errorCodes },
    message: { type: 'string' },
    errors: {
      type: 'array',
      description:
        "One entry per problem: `path` dotted (`rule.and.1.gte`; empty for the whole body or parameter set) and `message`; for INVALID_EVENT also `index`, the event's position in the batch (0 for a single event).",
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
    {
      name: 'channels',
      description:
        "Messaging channels' webhooks: Zalo Official Account, Messenger, a helpdesk (each provider's signature)",
    },
    { name: 'profiles', description: 'Unified customer profiles and timelines (profiles scope)' },
    {
      name: 'segments',
      description: 'Segment definitions and previews (analytics; segments:write to change), audiences (audiences)',
    },
    { name: 'analytics', description: 'Retention, repeat purchase, KPIs and lifecycle (analytics scope)' },
    { name: 'keys', description: 'API keys and their scopes (admin key)' },
    { name: 'privacy', description: 'Erasure, suppression and their audit log (admin key)' },
    {
      name: 'destinations',
      description: 'Signed webhooks fed by segment changes and events, with retries and dead letters (admin key)',
    },
    { name: 'console', description: 'The web console for care and marketing staff, served by this server' },
    { name: 'operations', description: 'Health, readiness, metrics and this document' },
  ],
  components: {
    securitySchemes: {
      writeKey: {
        type: 'http',
        scheme: 'basic',
        description:
          "The source's write key as the HTTP Basic username with an empty password, as Segment SDKs send it; browsers may put `writeKey` in the JSON body instead.",
      },
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          "An API key: `Authorization: Bearer <key>`. Each route names the scope it needs: `analytics` (aggregates), `profiles` (one customer's personal data), `audiences` (segment members and exports), `segments:write` (create, change, delete segments), `admin` (keys; holds every scope). A read key holds analytics, profiles and audiences.",
      },
      zaloSignature: {
        type: 'apiKey',
        in: 'header',
        name: 'X-ZEvent-Signature',
        description:
          'Zalo Official Account webhooks: `mac=<hex SHA-256 of app id + raw body + timestamp + OA secret key>` (CDP_ZALO_APP_ID, CDP_ZALO_OA_SECRET).',
      },
      hubSignature: {
        type: 'apiKey',
        in: 'header',
        name: 'X-Hub-Signature-256',
        description:
          'Messenger webhooks: `sha256=<hex HMAC-SHA256 of the raw body under the app secret>` (CDP_MESSENGER_APP_SECRET).',
      },
      messengerVerifyToken: {
        type: 'apiKey',
        in: 'query',
        name: 'hub.verify_token',
        description: "Messenger's subscription check: the verify token given to Meta (CDP_MESSENGER_VERIFY_TOKEN).",
      },
      cdpSignature: {
        type: 'apiKey',
        in: 'header',
        name: 'X-CDP-Signature',
        description:
          'Our webhook signature, both ways: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the shared secret>` (the helpdesk webhook: CDP_HELPDESK_SECRET).',
      },
    },
    schemas: { Error: errorSchema },
  },
} as const;

const openApiDoc = documented({
  summary: 'This OpenAPI document',
  description: 'OpenAPI 3 description of every route of this server; `/docs` renders it.',
  tags: ['operations'],
  responses: {
    200: jsonReply(
      'The OpenAPI document',
      { type: 'object', additionalProperties: true },
      { openapi: '3.0.3', info: { title: 'cdp' }, paths: {} },
    ),
  },
});

/** Must be awaited before any route is added: the document collects routes as they are registered. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, { openapi: document as unknown as Record<string, unknown> });
  // Swagger UI's assets come from the installed package through @fastify/static: the page works without internet.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true },
    theme: { title: 'cdp API' },
  });
  app.get('/openapi.json', openApiDoc, async () => app.swagger());
}
