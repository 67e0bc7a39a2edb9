// GET /v1/segments/{id}/members: an audience in cursor pages (JSON), or streamed whole as NDJSON or CSV.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, type ClickHouseClient } from '@cdp/runtime';
import { decodeAudienceCursor, readAudiencePage, streamAudience, streamAudienceCsv, subscriptionChannels } from '@cdp/profiles';
import type { SegmentStore } from '@cdp/segments';
import { membersDoc } from './segment-docs';

const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1000).optional(),
  traits: z
    .string()
    .max(5000)
    .optional()
    .transform((text) => [...new Set((text ?? '').split(',').map((key) => key.trim()).filter(Boolean))])
    .refine((keys) => keys.length <= 50 && keys.every((key) => key.length <= 200), 'at most 50 trait keys of at most 200 characters'),
  subscribed: z.enum(subscriptionChannels).optional(),
});

export function audienceRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; store: SegmentStore }): void {
  app.get<{ Params: { id: string }; Querystring: Record<string, string> }>('/v1/segments/:id/members', membersDoc, async (request, reply) => {
    const parsed = querySchema.safeParse(request.query);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
      throw new AppError('INVALID_REQUEST', errors.map((error) => `${error.path}: ${error.message}`).join('; '), errors);
    }
    const { limit, cursor, traits: traitKeys, subscribed } = parsed.data;
    const segment = await deps.store.get(request.params.id);
    if (!segment) throw new AppError('NOT_FOUND', `no segment ${request.params.id}`);
    const accept = request.headers.accept ?? '';
    const format = accept.includes('application/x-ndjson') ? 'ndjson' : accept.includes('text/csv') ? 'csv' : 'json';

    const audience = { segmentId: segment.id, traitKeys, ...(subscribed ? { subscribedTo: subscribed } : {}) };
    if (format === 'json') return readAudiencePage(deps.clickhouse, { ...audience, after: cursor === undefined ? '' : decodeAudienceCursor(cursor), limit });

    async function* ndjsonLines(): AsyncGenerator<string> {
      for await (const member of streamAudience(deps.clickhouse, audience)) yield `${JSON.stringify(member)}\n`;
    }
    // ClickHouse writes the CSV lines (a page at a time) itself; NDJSON is every member as JavaScript reads it.
    const body = format === 'csv' ? streamAudienceCsv(deps.clickhouse, audience) : ndjsonLines();
    // Readable.from reads the generator only as fast as the client takes the body: memory stays flat.
    return reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('content-disposition', `attachment; filename="${segment.id.replace(/[^\w.-]/g, '_')}.${format === 'csv' ? 'csv' : 'ndjson'}"`)
      .send(Readable.from(body));
  });
}
