// What browser SDKs fetch before they send: analytics.js's CDN settings and RudderStack's source configuration, each
// per write key and pointing back at this server, so pointing an SDK here changes nothing but its host.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  documented,
  errorReply,
  jsonReply,
  writeKeySecurity,
  type JsonSchema,
  type ZodTypeProvider,
} from '@cdp/runtime';
import { headerWriteKeyOf, verifyWriteKey } from '../auth';
import type { IngestDeps } from './ingest';

const writeKeyParam = z.string().min(1).max(256);

const keyAnswers = {
  401: errorReply('No write key, or an unknown or revoked one', [
    { code: 'MISSING_WRITE_KEY', message: 'a write key is required: HTTP Basic username, or the writeKey parameter' },
    { code: 'UNKNOWN_WRITE_KEY', message: 'the write key is unknown, revoked or expired' },
  ]),
};

const segmentSettingsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    integrations: {
      type: 'object',
      additionalProperties: true,
      description: 'Only `Segment.io`, pointing at this server: no device-mode integration is loaded.',
    },
    plan: { type: 'object', additionalProperties: true },
    metrics: { type: 'object', additionalProperties: true, description: '`sampleRate: 0`: no metrics to Segment.' },
  },
};

const segmentSettingsDoc = documented({
  summary: 'analytics.js settings for a write key',
  description:
    'What analytics.js fetches from `{cdnURL}/v1/projects/{writeKey}/settings` at load: give it this server as ' +
    '`cdnURL` and it sends here, over the scheme and host it fetched the settings from, without settings inline. ' +
    'The write key is the one in the path (analytics.js sends no header for this request).',
  tags: ['ingest'],
  security: writeKeySecurity,
  validate: { params: z.object({ writeKey: writeKeyParam }) },
  responses: {
    200: jsonReply('The settings', segmentSettingsSchema, {
      integrations: { 'Segment.io': { apiKey: 'wk_browser', apiHost: 'cdp.example.com/v1', protocol: 'https' } },
      plan: { track: { __default: { enabled: true, integrations: {} } } },
      metrics: { sampleRate: 0 },
    }),
    ...keyAnswers,
  },
});

const sourceConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    isHosted: { type: 'boolean' },
    source: {
      type: 'object',
      additionalProperties: true,
      properties: {
        id: { type: 'string', description: 'The source the write key belongs to' },
        name: { type: 'string' },
        writeKey: { type: 'string' },
        workspaceId: { type: 'string' },
        enabled: { type: 'boolean', enum: [true] },
        config: { type: 'object', additionalProperties: true },
        destinations: { type: 'array', items: {}, maxItems: 0, description: 'None: no device-mode destination loads' },
      },
    },
  },
};

/** RudderStack's SDK adds its own parameters (p, v, build, lock…Version); only the write key matters here. */
const sourceConfigQuery = z.looseObject({ writeKey: writeKeyParam.optional() });

const sourceConfigDoc = (hide: boolean) =>
  documented({
    summary: 'RudderStack source configuration for a write key',
    description:
      'What `@rudderstack/analytics-js` fetches from `{configUrl}/sourceConfig/?writeKey=…` before it sends: give it ' +
      'this server as `configUrl` (and `dataPlaneUrl`). The key is the HTTP Basic username or the `writeKey` ' +
      'parameter. No destinations and no stats collection, so the SDK loads nothing from a CDN.',
    tags: ['ingest'],
    security: writeKeySecurity,
    hide,
    validate: { querystring: sourceConfigQuery },
    responses: {
      200: jsonReply('The source configuration', sourceConfigSchema, {
        isHosted: false,
        source: {
          id: 'web',
          name: 'web',
          writeKey: 'wk_browser',
          workspaceId: 'cdp',
          enabled: true,
          config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
          destinations: [],
        },
      }),
      ...keyAnswers,
    },
  });

export function settingsRoutes(app: FastifyInstance, deps: Pick<IngestDeps, 'keys'>): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/v1/projects/:writeKey/settings', segmentSettingsDoc, async (request, reply) => {
    const { writeKey } = request.params;
    await verifyWriteKey(deps.keys, writeKey);
    // The host and scheme the browser reached us by (X-Forwarded-* only from trusted proxies).
    const segmentio = { apiKey: writeKey, apiHost: `${request.host}/v1`, protocol: request.protocol };
    return reply.header('cache-control', 'no-cache').send({
      integrations: { 'Segment.io': segmentio },
      plan: { track: { __default: { enabled: true, integrations: {} } } },
      metrics: { sampleRate: 0 },
    });
  });

  const sourceConfig = async (request: FastifyRequest<{ Querystring: z.infer<typeof sourceConfigQuery> }>) => {
    const writeKey = headerWriteKeyOf(request) ?? request.query.writeKey;
    if (!writeKey)
      throw new AppError(
        'MISSING_WRITE_KEY',
        'a write key is required: HTTP Basic username, or the writeKey parameter',
      );
    const { source } = await verifyWriteKey(deps.keys, writeKey);
    return {
      isHosted: false,
      source: {
        id: source,
        name: source,
        writeKey,
        workspaceId: 'cdp',
        enabled: true,
        config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
        destinations: [],
      },
    };
  };
  // The SDK asks for `/sourceConfig/`; both spellings answer, the document shows one.
  api.get('/sourceConfig', sourceConfigDoc(false), sourceConfig);
  api.get('/sourceConfig/', sourceConfigDoc(true), sourceConfig);
}
