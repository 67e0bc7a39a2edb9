// GET /v1/segments/{id}/members: an audience in cursor pages (JSON), or streamed whole as NDJSON or CSV.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError, type ClickHouseClient, type ZodTypeProvider } from '@cdp/runtime';
import { decodeAudienceCursor, readAudiencePage, streamAudience, streamAudienceCsv } from '@cdp/profiles';
import type { SegmentStore } from '@cdp/segments';
import { membersDoc } from './segment-docs';

export function audienceRoutes(
  app: FastifyInstance,
  deps: { clickhouse: ClickHouseClient; store: SegmentStore },
): void {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/segments/:id/members', membersDoc, async (request, reply) => {
    const { limit, cursor, traits: traitKeys, subscribed } = request.query;
    const segment = await deps.store.get(request.params.id);
    if (!segment) throw new AppError('NOT_FOUND', `no segment ${request.params.id}`);
    const accept = request.headers.accept ?? '';
    const format = accept.includes('application/x-ndjson') ? 'ndjson' : accept.includes('text/csv') ? 'csv' : 'json';

    const audience = { segmentId: segment.id, traitKeys, ...(subscribed ? { subscribedTo: subscribed } : {}) };
    if (format === 'json')
      return readAudiencePage(deps.clickhouse, {
        ...audience,
        after: cursor === undefined ? '' : decodeAudienceCursor(cursor),
        limit,
      });

    async function* ndjsonLines(): AsyncGenerator<string> {
      for await (const member of streamAudience(deps.clickhouse, audience)) yield `${JSON.stringify(member)}\n`;
    }
    // ClickHouse writes the CSV lines (a page at a time) itself; NDJSON is every member as JavaScript reads it.
    const body = format === 'csv' ? streamAudienceCsv(deps.clickhouse, audience) : ndjsonLines();
    // Readable.from reads the generator only as fast as the client takes the body: memory stays flat.
    return reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header(
        'content-disposition',
        `attachment; filename="${segment.id.replace(/[^\w.-]/g, '_')}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
      )
      .send(Readable.from(body));
  });
}
