// GET /v1/analytics/{kpis,kpis/series,retention,repeat-purchase,lifecycle,tickets,surveys,open-tickets,rfm}: named ClickHouse queries behind a read key and zod-checked parameters.
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { invalidInput, named, type ClickHouseClient, type DocumentedRoute, type ZodTypeProvider } from '@cdp/runtime';
import { latestRfmGrid } from '@cdp/segments';
import { openTicketsNow, surveys, ticketSeries } from '../analytics/care';
import { wantsFresh, type AnswerCache } from '../answer-cache';
import { kpiSeries } from '../analytics/kpi-series';
import { kpis } from '../analytics/kpis';
import { lifecycle } from '../analytics/lifecycle';
import { repeatPurchase } from '../analytics/repeat-purchase';
import { retention } from '../analytics/retention';
import {
  kpiSeriesDoc,
  kpisDoc,
  openTicketsDoc,
  rfmGridDoc,
  surveysDoc,
  ticketSeriesDoc,
  lifecycleDoc,
  repeatPurchaseDoc,
  retentionDoc,
} from './analytics-docs';

const timeZonesQuery = 'SELECT time_zone FROM system.time_zones';

// Each route's querystring schema validates before the handler, which receives the parsed window (`fromMs`, `toMs`).
export function analyticsRoutes(
  app: FastifyInstance,
  deps: { clickhouse: ClickHouseClient; answers: AnswerCache },
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // The zod schema checks a zone against the runtime's own data; ClickHouse does the calendar arithmetic, so it
  // must know the exact name too (it reads names case-sensitively, Intl does not). Its list never changes while it runs.
  let clickhouseZones: Set<string> | null = null;
  async function checkTimeZone(tz: string): Promise<void> {
    if (!clickhouseZones) {
      const result = await deps.clickhouse.query(
        named('analytics.readTimeZones', { query: timeZonesQuery, format: 'JSONEachRow' }),
      );
      clickhouseZones = new Set((await result.json<{ time_zone: string }>()).map((zone) => zone.time_zone));
    }
    if (!clickhouseZones.has(tz))
      throw invalidInput([
        { path: 'tz', message: `ClickHouse does not know the time zone ${tz}; IANA names are case-sensitive` },
      ]);
  }

  function route<S extends z.ZodType<{ tz: string }>, R>(
    path: string,
    doc: DocumentedRoute<{ querystring: S }>,
    answer: (client: ClickHouseClient, query: z.output<S>) => Promise<R>,
  ): void {
    api.get(path, doc, async (request, reply) => {
      const query = request.query as z.output<S>;
      await checkTimeZone(query.tz);
      // The parsed query is the question: its keys come in the schema's order, so equal questions are equal strings.
      const { value, ageSeconds } = await deps.answers.answer(
        `${path}?${JSON.stringify(query)}`,
        wantsFresh(request.headers),
        () => answer(deps.clickhouse, query),
      );
      void reply.header('age', String(ageSeconds));
      return value;
    });
  }

  route('/v1/analytics/kpis', kpisDoc, kpis);
  route('/v1/analytics/kpis/series', kpiSeriesDoc, kpiSeries);
  route('/v1/analytics/retention', retentionDoc, retention);
  route('/v1/analytics/repeat-purchase', repeatPurchaseDoc, repeatPurchase);
  route('/v1/analytics/lifecycle', lifecycleDoc, lifecycle);
  route('/v1/analytics/tickets', ticketSeriesDoc, ticketSeries);
  route('/v1/analytics/surveys', surveysDoc, surveys);
  // Open tickets are those of now: no window, so no zone to check.
  api.get('/v1/analytics/open-tickets', openTicketsDoc, async (request) =>
    openTicketsNow(deps.clickhouse, request.query),
  );
  app.get('/v1/analytics/rfm', rfmGridDoc, async () => latestRfmGrid(deps.clickhouse));
}
